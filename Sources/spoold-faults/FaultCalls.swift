import Foundation

/// One generated call file and what must become of it.
struct FaultCall {
    let name: String
    let channel: String
    let maxRetries: Int
    let bytes: [UInt8]

    var attempts: Int { maxRetries + 1 }
    var answers: Bool { channel.split(separator: "/").dropFirst().first == "answer" }

    /// `padTo`: pad with comment lines to exactly this many bytes (a page, for the disk-full case, so
    /// that every record spoold appends needs a new block).
    init(name: String, channel: String, maxRetries: Int, retryTime: Int = 1, waitTime: Int = 10, padTo: Int? = nil) {
        self.name = name
        self.channel = channel
        self.maxRetries = maxRetries
        var text = """
        Channel: \(channel)
        Application: Wait
        Data: 1
        MaxRetries: \(maxRetries)
        RetryTime: \(retryTime)
        WaitTime: \(waitTime)
        Archive: yes
        Set: FAULTFILE=\(name)

        """
        if let padTo {
            // Comment lines of at most 1000 bytes (well under the 1022-byte line limit).
            while text.utf8.count < padTo {
                let room = padTo - text.utf8.count
                let line = min(room, 1000)
                text += line == 1 ? "\n" : ";" + String(repeating: "x", count: line - 2) + "\n"
            }
        }
        self.bytes = Array(text.utf8)
    }

    /// The mix used by the kill and AMI-restart runs: answered calls with talk time, answered after
    /// ringing, busy with retries, congestion without retries, no answer with one retry.
    static func mixed(index: Int, prefix: String) -> FaultCall {
        let name = "\(prefix)-\(String(index + 100_000).dropFirst()).call"
        switch index % 5 {
        case 0: return FaultCall(name: name, channel: "Local/answer/0/\(200 + (index * 37) % 1300)", maxRetries: 3)
        case 1: return FaultCall(name: name, channel: "Local/answer/300/0", maxRetries: 3)
        case 2: return FaultCall(name: name, channel: "Local/busy/100", maxRetries: 2)
        case 3: return FaultCall(name: name, channel: "Local/congestion", maxRetries: 0)
        default: return FaultCall(name: name, channel: "Local/noanswer/500", maxRetries: 1)
        }
    }
}

/// The records and Status an archived file carries, read with this suite's own scan (not spoold's parser).
struct ArchivedRecords {
    var starts: [(epoch: Int, attempt: Int)] = []
    var ends = 0
    var aborts = 0
    var retries = 0
    var statuses: [String] = []
    var statusIsLast = false

    init(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let lastNonEmpty = lines.last { !$0.isEmpty }
        for line in lines {
            if line.hasPrefix("Status: ") { statuses.append(String(line.dropFirst(8))) }
            else if line.hasPrefix("StartRetry: ") {
                // StartRetry: <pid> <n> (<epoch>)
                let fields = line.split(separator: " ")
                if fields.count == 4, let attempt = Int(fields[2]),
                   let epoch = Int(fields[3].trimmingCharacters(in: ["(", ")"])) {
                    starts.append((epoch, attempt))
                }
            }
            else if line.hasPrefix("EndRetry: ") { ends += 1 }
            else if line.hasPrefix("AbortRetry: ") { aborts += 1 }
            else if line.hasPrefix("Retry: ") { retries += 1 }
        }
        statusIsLast = lastNonEmpty?.hasPrefix("Status: ") ?? false
    }

    var finishedAttempts: Int { ends + aborts + retries }
}

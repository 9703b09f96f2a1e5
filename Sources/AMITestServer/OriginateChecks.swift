import AMI

/// Asterisk's checks on an Originate, in its order (reference §9.3), with its messages.
enum OriginateChecks {
    static let uniqueidTooLong = "Uniqueid length exceeds maximum of 149"

    static let blacklistedApplications = ["agi", "dbdeltree", "exec", "externalivr", "mixmonitor", "originate", "reload", "system"]
    static let blacklistedData = ["CURL", "DB", "EVAL", "FILE", "ODBC", "REALTIME", "SHELL"]

    static func error(for message: AMIMessage, systemPermitted: Bool) -> String? {
        if (message["ChannelId"]?.utf8.count ?? 0) > OriginateRequest.maximumChannelIdLength
            || (message["OtherChannelId"]?.utf8.count ?? 0) > OriginateRequest.maximumChannelIdLength {
            return uniqueidTooLong
        }
        guard let channel = message["Channel"], !channel.isEmpty else { return "Channel not specified" }
        // Only numeric priorities: the test server has no dialplan labels.
        if let priority = message["Priority"], !priority.isEmpty, Int(priority) == nil { return "Invalid priority" }
        if let timeout = message["Timeout"], !timeout.isEmpty, Int(timeout) == nil { return "Invalid timeout" }
        guard channel.contains("/") else { return "Invalid channel" }
        if !systemPermitted {
            let application = (message["Application"] ?? "").lowercased()
            let data = message["Data"] ?? ""
            if blacklistedApplications.contains(where: application.contains) || blacklistedData.contains(where: data.contains) {
                return "Originate Access Forbidden: app or data blacklisted"
            }
        }
        // The test server's dialplan: every context and extension exists except those named "nonexistent".
        if message["Context"] == "nonexistent" || message["Exten"] == "nonexistent" { return "Extension does not exist." }
        let application = message["Application"] ?? ""
        if !isTrue(message["Async"]), application.isEmpty, (message["Priority"] ?? "").isEmpty {
            return "Originate with 'Exten' requires 'Context' and 'Priority'"
        }
        return nil
    }

    /// Asterisk's `ast_true` words.
    static func isTrue(_ value: String?) -> Bool {
        guard let value = value?.lowercased() else { return false }
        return ["yes", "true", "y", "t", "1", "on"].contains(value)
    }
}

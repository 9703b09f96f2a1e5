/// One line of spoold's result log (`--result-log`), decoded as a consumer (jq, a script) reads it; shared
/// by the unit tests of the format and the end-to-end tests of the real spoold.
public struct ResultLine: Decodable, Sendable {
    public struct Attempt: Decodable, Sendable {
        public let attempt: Int
        public let uniqueid: String
        public let start: String
        public let end: String
        public let result: String
        public let reason: Int?
        public let reason_text: String
    }
    public let file: String
    public let status: String
    public let summary: String
    public let disposition: String
    public let archive: String?
    public let channel: String?
    public let finished: String
    public let attempts: [Attempt]
    public let attempts_omitted: Int
}

import ArgumentParser

/// `-o`: how a command prints its result, as kubectl users expect it.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// The human summary (the default).
    case text
    /// The API's JSON (as `--json`); job and sync progress as NDJSON events.
    case json
    /// The same document as YAML.
    case yaml
    /// The summary with more columns (lists) or details.
    case wide

    /// JSON or YAML: a document for a program, errors included.
    var structured: Bool { self == .json || self == .yaml }
}

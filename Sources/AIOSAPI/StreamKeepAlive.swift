import FoundationEssentials

/// The line aiosd sends on every NDJSON progress stream (`POST /v1/sync` with `wait`, the host jobs) after a
/// third of `control.idleTimeout` in which it sent nothing else: `{"event":"keepAlive"}`. A step that reports
/// nothing for long (a first sync's list pass over a large vault, K3s coming back) would otherwise let the idle
/// timeout close the stream under the client. It carries nothing; clients skip it.
public struct StreamKeepAlive: Codable, Sendable, Equatable {
    public static let eventName = "keepAlive"

    public var event: String

    public init() { event = Self.eventName }

    /// The whole line, newline included.
    public static let line: [UInt8] = Array(#"{"event":"keepAlive"}"#.utf8) + [0x0A]

    /// Silence after which aiosd sends one: a third of the idle timeout, so a stream is never idle for longer
    /// than two thirds of it.
    public static func interval(idleTimeout: Duration) -> Duration { idleTimeout / 3 }

    /// True for a keep-alive line, however its JSON is spaced (with or without the newline).
    public static func isKeepAlive(_ line: [UInt8]) -> Bool {
        guard line.count < 64 else { return false }
        return (try? APICoding.decoder().decode(StreamKeepAlive.self, from: Data(line)))?.event == eventName
    }
}

internal import CSystemd
import Glibc
import Logging

/// A swift-log handler writing native journal entries with sd_journal_sendv(3): `MESSAGE`, `PRIORITY`,
/// `SYSLOG_IDENTIFIER`, `CODE_FILE/LINE/FUNC` and metadata as `AIOS_*` fields.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let identifier: String

    public init(identifier: String) {
        self.identifier = identifier
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        // Most entries carry only their own metadata: taken as it is, not merged key by key into an empty one.
        if let extra = event.metadata { if merged.isEmpty { merged = extra } else { merged.merge(extra) { _, new in new } } }
        let fields = JournalFields.fields(
            message: event.message.description, level: event.level, metadata: merged, identifier: identifier,
            file: event.file, function: event.function, line: event.line)
        Self.send(fields)
    }

    static func send(_ fields: [(String, String)]) {
        // One buffer for every NAME=value, the vectors pointing into it: one allocation per entry, not three per field.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 1 })
        var ranges: [(start: Int, count: Int)] = []
        ranges.reserveCapacity(fields.count)
        for (name, value) in fields {
            let start = bytes.count
            bytes += name.utf8
            bytes.append(UInt8(ascii: "="))
            bytes += value.utf8
            ranges.append((start, bytes.count - start))
        }
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var vectors = ranges.map { iovec(iov_base: base + $0.start, iov_len: $0.count) }
            _ = vectors.withUnsafeMutableBufferPointer { pointer in
                aios_sd_journal_sendv(pointer.baseAddress!, Int32(pointer.count))
            }
        }
    }
}

/// Where aiosd logs: the journal when systemd runs us (`JOURNAL_STREAM` or `INVOCATION_ID`), stderr otherwise.
public enum LogDestination {
    public static func runsUnderSystemd(environment: [String: String]) -> Bool {
        environment["JOURNAL_STREAM"] != nil || environment["INVOCATION_ID"] != nil
    }
}

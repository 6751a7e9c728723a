import AIOSClient
import ArgumentParser
import Foundation

/// Printing for aiosctl: summaries on stdout, errors as `aiosctl: message` plus a hint on stderr.
enum Output {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func printJSON(_ bytes: [UInt8]) {
        var bytes = bytes
        if bytes.last != 0x0A { bytes.append(0x0A) }
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Reports `error` and returns the exit code to leave with. With `--json` the daemon's error body goes to stdout too.
    static func fail(_ error: ClientError, json: Bool) -> ExitCode {
        if json, let body = error.body { printJSON(body) }
        var text = "aiosctl: \(error.message)\n"
        if let hint = error.hint { text += "hint: \(hint)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        return ExitCode(ExitStatus.code(for: error.kind))
    }

    /// `2m 5s`, `3h 4m`, `1d 2h`.
    static func duration(seconds: Double) -> String {
        let total = Int(seconds)
        let (days, hours, minutes, secs) = (total / 86400, total % 86400 / 3600, total % 3600 / 60, total % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

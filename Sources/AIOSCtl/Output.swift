import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials
import Glibc

/// Printing for aiosctl: summaries on stdout, errors as `aiosctl: message` plus a hint on stderr.
enum Output {
    static func print(_ text: String) {
        write(Array((text.hasSuffix("\n") ? text : text + "\n").utf8), to: STDOUT_FILENO)
    }

    /// Without a newline (a live progress line that the next print overwrites).
    static func printRaw(_ text: String) {
        write(Array(text.utf8), to: STDOUT_FILENO)
    }

    static func printJSON(_ bytes: [UInt8]) {
        var bytes = bytes
        if bytes.last != 0x0A { bytes.append(0x0A) }
        write(bytes, to: STDOUT_FILENO)
    }

    static func printError(_ text: String) {
        write(Array(text.utf8), to: STDERR_FILENO)
    }

    /// Writes everything, retrying short writes and EINTR; a closed stdout (EPIPE) ends the output quietly.
    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Reports `error` and returns the exit code to leave with. With `--json` the daemon's error body goes to stdout too.
    static func fail(_ error: ClientError, json: Bool) -> ExitCode {
        if json, let body = error.body { printJSON(body) }
        var text = "aiosctl: \(error.message)\n"
        if let hint = error.hint { text += "hint: \(hint)\n" }
        printError(text)
        return ExitCode(ExitStatus.code(for: error.kind))
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// An expiry for a table cell: `in 29d23h`, `EXPIRED 2h0m ago`, or `-` without one.
    static func expiry(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        return date <= now ? "EXPIRED \(DurationText.relative(date, now: now))" : DurationText.relative(date, now: now)
    }
}

extension Output {
    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials
import Glibc

/// Printing for aiosctl: summaries on stdout, errors as `aiosctl: message` plus a hint on stderr.
enum Output {
    static func print(_ text: String) {
        write(Array(visible(text.hasSuffix("\n") ? text : text + "\n").utf8), to: STDOUT_FILENO)
    }

    /// Without a newline (a live progress line that the next print overwrites).
    static func printRaw(_ text: String) {
        write(Array(visible(text).utf8), to: STDOUT_FILENO)
    }

    /// Text from the cluster or a file (names, annotations, condition messages, journal lines) may carry terminal
    /// escape sequences or carriage returns that would rewrite what the operator sees: every control character
    /// but newline and tab is shown as `\u{XX}`. (`--json` output is JSON-escaped already.)
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isHidden($0) }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isHidden(scalar) {
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: false
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }

    static func printJSON(_ bytes: [UInt8]) {
        var bytes = bytes
        if bytes.last != 0x0A { bytes.append(0x0A) }
        write(bytes, to: STDOUT_FILENO)
    }

    static func printError(_ text: String) {
        write(Array(visible(text).utf8), to: STDERR_FILENO)
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

    /// Reports `error` on stderr and returns the exit code to leave with. When a document was asked for (`--json`,
    /// `-o json|yaml`), stdout gets the error as one too: aiosd's error body, or the same shape for errors met
    /// before aiosd answered (`unreachable`, `busy`, `permission_denied`, `failed`).
    static func fail(_ error: ClientError, format: OutputFormat) -> ExitCode {
        if format.structured {
            var own = APIError(code: .internalError, message: error.message, hint: error.hint)
            own.code = error.apiError?.code ?? Self.code(of: error.kind)
            let body = error.body.flatMap { try? APICoding.decoder().decode(APIErrorResponse.self, from: Data($0)) } ?? APIErrorResponse(error: own)
            if let document = StructuredOutput.document(body, format: format) { print(document) }
        }
        var text = "aiosctl: \(error.message)\n"
        if let hint = error.hint { text += "hint: \(hint)\n" }
        printError(text)
        return ExitCode(ExitStatus.code(for: error.kind))
    }

    /// The error code of a failure aiosctl met itself.
    static func code(of kind: ClientError.Kind) -> String {
        switch kind {
        case .unreachable: "unreachable"
        case .busy: APIErrorCode.busy.rawValue
        case .permissionDenied: APIErrorCode.permissionDenied.rawValue
        case .failed: "failed"
        }
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
    private static func cell(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.append(character)
            }
        }
        return result
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        // A newline or tab inside a cell would break the table's rows and columns.
        let rows: [[String]] = rows.map { $0.map(cell) }
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

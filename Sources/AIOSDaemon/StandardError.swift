import Glibc

/// Writes to file descriptor 2 (what `FileHandle.standardError.write` did, without linking Foundation).
enum StandardError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return  // stderr closed: nowhere left to say it
            }
            bytes = bytes.dropFirst(written)
        }
    }
}

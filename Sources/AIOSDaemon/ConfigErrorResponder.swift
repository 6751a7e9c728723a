import AIOSAPI
import AIOSCore
import AIOSSystemd
import FoundationEssentials
import Glibc

/// An invalid configuration at start under socket activation: every client already waiting on the socket gets the
/// error (`config_invalid`, the API's error body) before aiosd exits 78. Left unanswered, a waiting connection keeps
/// the socket readable, systemd starts aiosd again at once, and after a few starts the start limit fails the socket
/// too: fixing the file would then not be enough (it would take `systemctl reset-failed`).
enum ConfigErrorResponder {
    static func answerWaitingClients(_ error: ConfigurationError) {
        guard let listener = try? ListenFDs.takeUnixListener() else { return }
        let flags = fcntl(listener, F_GETFL)
        _ = fcntl(listener, F_SETFL, flags | O_NONBLOCK)
        let response = Self.response(for: error)
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { break }  // EAGAIN: nobody else is waiting
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            answer(client, with: response)
        }
    }

    static func response(for error: ConfigurationError) -> [UInt8] {
        let body = APIErrorResponse(error: APIError(
            code: .configInvalid, message: "aiosd cannot start: configuration invalid: \(error.description)",
            hint: "fix the file (aiosd --check-config shows what is wrong); the next request starts aiosd again"))
        let json = (try? APICoding.encoder().encode(body)).map { Array($0) } ?? Array("{}".utf8)
        let status = APIErrorCode.configInvalid.httpStatus
        let head = "HTTP/1.1 \(status) Unprocessable Content\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(json.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + json
    }

    /// Reads the request head first (closing on unread data would reset the connection and lose the answer).
    private static func answer(_ client: Int32, with response: [UInt8]) {
        defer { close(client) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
        while received.count < 64 << 10, !endsWithBlankLine(received), poll(&poller, 1, 1000) > 0 {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        _ = response.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(client, Int32(SHUT_WR))
    }

    private static func endsWithBlankLine(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[(bytes.count - 4)...].elementsEqual([13, 10, 13, 10])
    }
}

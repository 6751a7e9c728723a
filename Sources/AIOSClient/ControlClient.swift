import AIOSAPI
import FoundationEssentials
import Glibc

/// A typed client for aiosd's control API over its Unix socket (`UnixSocketExchange`: plain system calls, no libcurl).
public struct ControlClient: Sendable {
    public var socketPath: String
    public var timeout: Duration

    public init(socketPath: String = Defaults.socketPath, timeout: Duration = .seconds(10)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// Calls `endpoint` and returns the raw JSON body of a successful response.
    public func call(_ endpoint: Endpoint, parameters: [String: String] = [:], body: [UInt8]? = nil) throws(ClientError) -> [UInt8] {
        try checkSocketAccess()
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        var response: [UInt8] = []
        let status: Int
        do {
            status = try exchange.send(method: endpoint.method == .get ? "GET" : "POST",
                                       path: endpoint.path(parameters.mapValues(Self.percentEncoded)), headers: headers,
                                       body: endpoint.method == .post ? (body ?? []) : nil) { response.append(contentsOf: $0) }
        } catch {
            throw transportError(error)
        }
        guard (200..<300).contains(status) else {
            throw apiError(status: status, body: response)
        }
        return response
    }

    private var exchange: UnixSocketExchange { UnixSocketExchange(socketPath: socketPath, timeout: timeout) }

    /// Calls `endpoint` and decodes its response.
    public func call<Response: Decodable>(_ endpoint: Endpoint, parameters: [String: String] = [:], as type: Response.Type,
                                          body: [UInt8]? = nil) throws(ClientError) -> Response {
        let bytes = try call(endpoint, parameters: parameters, body: body)
        do {
            return try APICoding.decoder().decode(Response.self, from: Data(bytes))
        } catch {
            throw ClientError(kind: .failed, message: "aiosd sent a response aiosctl cannot read (\(error)); are aiosd and aiosctl the same version?",
                              hint: "compare: aiosctl version")
        }
    }

    /// Starts a job endpoint with NDJSON progress: `onEvent` sees each event (and its raw line) as it arrives.
    /// Returns the `finished` event; a failed job is thrown as a `ClientError` carrying the job's error.
    public func runJob(_ endpoint: Endpoint, body: [UInt8]? = nil,
                       onEvent: (JobEvent, [UInt8]) -> Void) throws(ClientError) -> JobEvent {
        var finished: JobEvent?
        let decoder = APICoding.decoder()
        try stream(endpoint, body: body) { line in
            guard let event = try? decoder.decode(JobEvent.self, from: Data(line)) else { return }
            if event.event == .finished { finished = event }
            onEvent(event, line)
        }
        guard let finished, let record = finished.record else {
            throw ClientError(kind: .failed, message: "aiosd's progress stream ended before the job finished; see: aiosctl jobs")
        }
        if let error = record.error {
            var message = "job \(record.id) failed: \(error.message)"
            if let journal = record.k3sJournal, !journal.isEmpty {
                message += "\nK3s' last journal lines:\n" + journal.map { "  \($0)" }.joined(separator: "\n")
            }
            throw ClientError(kind: error.code == APIErrorCode.permissionDenied.rawValue ? .permissionDenied : .failed,
                              message: message, hint: error.hint, apiError: error)
        }
        return finished
    }

    /// Calls `endpoint` asking for NDJSON and hands each line to `onLine` as it arrives (e.g. `POST /v1/sync`).
    public func stream(_ endpoint: Endpoint, body: [UInt8]? = nil, onLine: ([UInt8]) -> Void) throws(ClientError) {
        try checkSocketAccess()
        var headers: [(name: String, value: String)] = [("Accept", JobEvent.contentType)]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        var pending: [UInt8] = []
        var everything: [UInt8] = []
        let status: Int
        do {
            status = try exchange.send(method: "POST", path: endpoint.path, headers: headers, body: body ?? []) { chunk in
                everything.append(contentsOf: chunk)
                pending.append(contentsOf: chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = Array(pending[..<newline])
                    pending.removeSubrange(...newline)
                    onLine(line)
                }
            }
        } catch {
            throw transportError(error)
        }
        guard (200..<300).contains(status) else { throw apiError(status: status, body: everything) }
    }

    /// A path segment: unreserved characters as they are, everything else %XX.
    static func percentEncoded(_ segment: String) -> String {
        var result = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                result.append(Character(UnicodeScalar(byte)))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    private var unreachableHint: String { "is aiosd running? check: systemctl status aiosd.socket aiosd.service" }

    /// Distinguishes "nobody there" from "not allowed to talk to it" before connect(2) folds both into one error.
    private func checkSocketAccess() throws(ClientError) {
        var info = stat()
        guard stat(socketPath, &info) == 0 else {
            let reason = errno == EACCES ? "permission denied" : String(cString: strerror(errno))
            if errno == EACCES {
                throw ClientError(kind: .permissionDenied, message: "cannot reach the aiosd socket \(socketPath): \(reason)",
                                  hint: "run as root or as a member of group '\(Defaults.socketGroup)' (usermod -aG \(Defaults.socketGroup) $USER, then log in again)")
            }
            throw ClientError(kind: .unreachable, message: "cannot reach aiosd at \(socketPath): \(reason)", hint: unreachableHint)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ClientError(kind: .unreachable, message: "\(socketPath) is not a socket", hint: unreachableHint)
        }
        if access(socketPath, R_OK | W_OK) != 0 && errno == EACCES {
            throw ClientError(kind: .permissionDenied, message: "permission denied on the aiosd socket \(socketPath)",
                              hint: "run as root or as a member of group '\(Defaults.socketGroup)' (usermod -aG \(Defaults.socketGroup) $USER, then log in again)")
        }
    }

    private func transportError(_ error: UnixSocketExchange.Failure) -> ClientError {
        switch error {
        case .couldNotConnect(let reason):
            return ClientError(kind: .unreachable, message: "cannot connect to aiosd at \(socketPath): \(reason)", hint: unreachableHint)
        case .timedOut:
            return ClientError(kind: .busy, message: "aiosd at \(socketPath) is running but did not answer within \(timeout)",
                               hint: "check: systemctl status aiosd; or raise --timeout")
        case .transport(let reason):
            return ClientError(kind: .busy, message: "aiosd at \(socketPath) accepted the connection but did not answer: \(reason)",
                               hint: "check: systemctl status aiosd; journalctl -u aiosd")
        case .responseTooLarge:
            return ClientError(kind: .failed, message: "aiosd's answer was too large: more than 16 MiB")
        }
    }

    private func apiError(status: Int, body: [UInt8]) -> ClientError {
        guard let decoded = try? APICoding.decoder().decode(APIErrorResponse.self, from: Data(body)) else {
            return ClientError(kind: .failed, message: "aiosd answered HTTP \(status) without an error body", body: body)
        }
        let error = decoded.error
        let kind: ClientError.Kind = switch error.code {
        case APIErrorCode.permissionDenied.rawValue: .permissionDenied
        case APIErrorCode.busy.rawValue: .busy
        default: .failed
        }
        return ClientError(kind: kind, message: error.message, hint: error.hint, apiError: error, body: body)
    }
}

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

    /// Calls `endpoint` and returns the raw body of a successful response (tests that send bytes no typed client would).
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

    /// Calls `method` with `request` and decodes its response as the method's declared type.
    public func call<Request, Response>(_ method: APIMethod<Request, Response>, _ request: Request,
                                        parameters: [String: String] = [:]) throws(ClientError) -> Response {
        let bytes = try call(method.endpoint, parameters: parameters, body: try Self.body(request, of: method))
        return try Self.decode(Response.self, from: bytes)
    }

    /// Calls a method that takes no body.
    public func call<Response>(_ method: APIMethod<NoRequest, Response>, parameters: [String: String] = [:]) throws(ClientError) -> Response {
        try call(method, NoRequest(), parameters: parameters)
    }

    /// Starts a job method with NDJSON progress: `onEvent` sees each event (and its raw line) as it arrives.
    /// Returns the job's response; a failed job is thrown as a `ClientError` carrying the job's error.
    public func runJob<Request, Response>(_ method: APIMethod<Request, Response>, _ request: Request,
                                          onEvent: (JobEvent, [UInt8]) -> Void) throws(ClientError) -> Response {
        var finished: JobEvent?
        let decoder = APICoding.decoder()
        try stream(method.endpoint, body: try Self.body(request, of: method)) { line in
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
        guard let text = finished.response else {
            throw ClientError(kind: .failed, message: "job \(finished.job) finished without a response; see: aiosctl jobs show \(finished.job)")
        }
        return try Self.decode(Response.self, from: Array(text.utf8))
    }

    /// Calls a method that streams events of type `Event` (`POST /v1/sync` with `wait`), handing each to `onEvent`.
    public func stream<Request, Response, Event: Decodable>(_ method: APIMethod<Request, Response>, _ request: Request, events: Event.Type,
                                                            onEvent: (Event, [UInt8]) -> Void) throws(ClientError) {
        let decoder = APICoding.decoder()
        try stream(method.endpoint, body: try Self.body(request, of: method)) { line in
            guard let event = try? decoder.decode(Event.self, from: Data(line)) else { return }
            onEvent(event, line)
        }
    }

    static func body<Request, Response>(_ request: Request, of method: APIMethod<Request, Response>) throws(ClientError) -> [UInt8]? {
        guard method.endpoint.method == .post, !(request is NoRequest) else { return nil }
        do {
            return Array(try APICoding.encoder().encode(request))
        } catch {
            throw ClientError(kind: .failed, message: "cannot encode the request: \(error)")
        }
    }

    static func decode<Response: Decodable>(_ type: Response.Type, from bytes: [UInt8]) throws(ClientError) -> Response {
        if Response.self == PlainText.self, let text = PlainText(String(decoding: bytes, as: UTF8.self)) as? Response { return text }
        do {
            return try APICoding.decoder().decode(Response.self, from: Data(bytes))
        } catch {
            throw ClientError(kind: .failed, message: "aiosd sent a response aiosctl cannot read (\(error)); are aiosd and aiosctl the same version?",
                              hint: "compare: aiosctl version")
        }
    }

    /// Calls `endpoint` asking for NDJSON and hands each line to `onLine` as it arrives (e.g. `POST /v1/sync`),
    /// all but the keep-alive lines.
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
                // A chunk may hold many lines: each is cut where it is, and the consumed bytes removed once.
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: 0x0A) {
                    let line = Array(pending[start..<newline])
                    start = newline + 1
                    // aiosd's keep-alive during a long silent step: proof of life, not an event.
                    if !StreamKeepAlive.isKeepAlive(line) { onLine(line) }
                }
                pending.removeSubrange(..<start)
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
        case .closedWithoutAnswer:
            return ClientError(kind: .busy, message: "aiosd at \(socketPath) is busy: it accepted the connection and closed it without answering (too many open control connections, or it is stopping)",
                               hint: "try again shortly; check: systemctl status aiosd; journalctl -u aiosd")
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

import AIOSHTTP
import FoundationEssentials

/// Lists and watches one kind of Kubernetes object (`GET ...?watch=1&resourceVersion=N`), the way informers
/// do: the events' objects are handed over as raw JSON; the stream ends after `timeoutSeconds` or when the API
/// server goes away, and the caller reconnects with the last resourceVersion it saw. A 410 (too old) means:
/// list again.
public struct KubernetesWatch: Sendable {
    public enum EventType: String, Sendable, Decodable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR" }

    public struct Event: Sendable {
        public var type: EventType
        /// The object's JSON (for ERROR: a Status).
        public var object: Data
        public var resourceVersion: String?
    }

    public enum Outcome: Sendable, Equatable {
        /// The stream ended normally (timeout, or the server closed it); reconnect from the last resourceVersion.
        case ended
        /// The resourceVersion is too old (410 Gone): list again.
        case expired
    }

    let client: KubernetesClient
    /// e.g. `/apis/secret-sync.x-k8s.io/v1alpha1/secretsyncs` (all namespaces), or with a `?labelSelector=`.
    public let path: String

    public init(client: KubernetesClient, path: String) {
        self.client = client
        self.path = path
    }

    /// The current objects (raw JSON each) and the list's resourceVersion. A 404 means the resource (CRD) is
    /// not installed: `nil`.
    public func list() throws(KubernetesError) -> (items: [Data], resourceVersion: String)? {
        let response = try client.send(.get, path)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw KubernetesClient.error(from: response, doing: "list \(path)") }
        guard let root = JSONValue.object(parsing: response.body) else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "the list of \(path) is not a list")
        }
        let items = (root["items"]?.array ?? []).compactMap { try? $0.encoded() }
        let version = root["metadata"]?["resourceVersion"]?.string ?? ""
        return (items, version)
    }

    /// Streams events after `resourceVersion` to `onEvent` until the server ends the stream.
    public func watch(from resourceVersion: String, timeoutSeconds: Int, onEvent: (Event) -> Void) throws(KubernetesError) -> Outcome {
        try watchLines(from: resourceVersion, timeoutSeconds: timeoutSeconds) { line in
            guard let event = Self.decode(Data(line)) else { return true }
            if event.type == .error {
                // A Status; 410 Gone / Expired means the history no longer reaches our resourceVersion.
                return JSONValue(parsing: event.object)?["code"]?.int != 410
            }
            onEvent(event)
            return true
        }
    }

    /// Streams each event after `resourceVersion`, one JSON object per line, to `onLine` (for readers of one kind
    /// that take only the fields they need) until the server ends the stream. `onLine` returns false for an
    /// ERROR event with code 410: the watch then ends as `.expired`.
    func watchLines(from resourceVersion: String, timeoutSeconds: Int, onLine: ([UInt8]) -> Bool) throws(KubernetesError) -> Outcome {
        // `path` may carry a query of its own (a labelSelector).
        let query = "\(path.contains("?") ? "&" : "?")watch=1&allowWatchBookmarks=true&timeoutSeconds=\(timeoutSeconds)&resourceVersion=\(resourceVersion)"
        var pending: [UInt8] = []
        var expired = false
        let status = try client.stream(path + query, timeout: .seconds(Int64(timeoutSeconds + 30))) { chunk in
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                if newline > start, !onLine(Array(pending[start..<newline])) { expired = true }
                start = newline + 1
            }
            // What is left is the start of the next line; removed once per chunk, not once per line.
            pending.removeSubrange(..<start)
        }
        if status == 410 || expired { return .expired }
        guard status == 200 else {
            throw KubernetesError(code: status, reason: "HTTP\(status)", message: "cannot watch \(path): HTTP \(status)")
        }
        return .ended
    }

    static func decode(_ line: Data) -> Event? {
        guard let root = JSONValue.object(parsing: line),
              let typeName = root["type"]?.string, let type = EventType(rawValue: typeName),
              let object = root["object"], let data = try? object.encoded() else { return nil }
        let version = object["metadata"]?["resourceVersion"]?.string
        return Event(type: type, object: data, resourceVersion: version)
    }
}

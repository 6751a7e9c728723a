import FoundationEssentials

/// `coordination.k8s.io/v1` Leases: leader election and each node's heartbeat.
extension KubernetesClient: LeaseClient {
    static func leasesPath(namespace: String) -> String { "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases" }

    public func getLease(namespace: String, name: String) throws(KubernetesError) -> LeaseRecord? {
        let response = try send(.get, "\(Self.leasesPath(namespace: namespace))/\(name)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Self.error(from: response, doing: "read Lease \(namespace)/\(name)") }
        return try Self.decodeLease(response.body, what: "Lease \(namespace)/\(name)")
    }

    public func createLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord {
        let body = try Self.leaseBody(namespace: namespace, name: name, record, withVersion: false)
        let response = try send(.post, Self.leasesPath(namespace: namespace), body: body, contentType: "application/json")
        guard response.status == 201 || response.status == 200 else { throw Self.error(from: response, doing: "create Lease \(namespace)/\(name)") }
        return try Self.decodeLease(response.body, what: "Lease \(namespace)/\(name)")
    }

    public func updateLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord {
        let body = try Self.leaseBody(namespace: namespace, name: name, record, withVersion: true)
        let response = try send(.put, "\(Self.leasesPath(namespace: namespace))/\(name)", body: body, contentType: "application/json")
        guard response.status == 200 else { throw Self.error(from: response, doing: "update Lease \(namespace)/\(name)") }
        return try Self.decodeLease(response.body, what: "Lease \(namespace)/\(name)")
    }

    public func listLeases(namespace: String, labelSelector: String) throws(KubernetesError) -> [String: LeaseRecord] {
        let query = PercentEncoding.queryValue(labelSelector, alsoEscaping: "&=+")
        let response = try send(.get, "\(Self.leasesPath(namespace: namespace))?labelSelector=\(query)")
        guard response.status == 200 else { throw Self.error(from: response, doing: "list Leases in \(namespace)") }
        guard let list = JSONValue.object(parsing: response.body) else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "the Lease list is not a LeaseList")
        }
        var leases: [String: LeaseRecord] = [:]
        for item in list["items"]?.objectArray ?? [] {
            guard let name = item["metadata"]?["name"]?.string else { continue }
            leases[name] = Self.lease(from: item)
        }
        return leases
    }

    public func deleteLease(namespace: String, name: String) throws(KubernetesError) {
        let response = try send(.delete, "\(Self.leasesPath(namespace: namespace))/\(name)")
        guard response.status == 200 || response.status == 202 || response.status == 404 else {
            throw Self.error(from: response, doing: "delete Lease \(namespace)/\(name)")
        }
    }

    // MARK: Wire

    static func decodeLease(_ body: [UInt8], what: String) throws(KubernetesError) -> LeaseRecord {
        guard let object = JSONValue.object(parsing: body) else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "\(what) is not a Lease")
        }
        return lease(from: object)
    }

    static func lease(from object: [String: JSONValue]) -> LeaseRecord {
        let metadata = object["metadata"]?.object ?? [:]
        let spec = object["spec"]?.object ?? [:]
        return LeaseRecord(holderIdentity: spec["holderIdentity"]?.string, leaseDurationSeconds: spec["leaseDurationSeconds"]?.int,
                           acquireTime: spec["acquireTime"]?.string.flatMap(MicroTime.parse),
                           renewTime: spec["renewTime"]?.string.flatMap(MicroTime.parse),
                           leaseTransitions: spec["leaseTransitions"]?.int,
                           labels: metadata["labels"]?.stringObject ?? [:],
                           annotations: metadata["annotations"]?.stringObject ?? [:],
                           resourceVersion: metadata["resourceVersion"]?.string ?? "")
    }

    static func leaseBody(namespace: String, name: String, _ record: LeaseRecord, withVersion: Bool) throws(KubernetesError) -> [UInt8] {
        var metadata: [String: JSONValue] = ["name": JSONValue(name), "namespace": JSONValue(namespace)]
        if !record.labels.isEmpty { metadata["labels"] = JSONValue(record.labels) }
        if !record.annotations.isEmpty { metadata["annotations"] = JSONValue(record.annotations) }
        if withVersion { metadata["resourceVersion"] = JSONValue(record.resourceVersion) }
        var spec: [String: JSONValue] = [:]
        if let holder = record.holderIdentity { spec["holderIdentity"] = JSONValue(holder) }
        if let seconds = record.leaseDurationSeconds { spec["leaseDurationSeconds"] = JSONValue(seconds) }
        if let time = record.acquireTime { spec["acquireTime"] = JSONValue(MicroTime.format(time)) }
        if let time = record.renewTime { spec["renewTime"] = JSONValue(MicroTime.format(time)) }
        if let transitions = record.leaseTransitions { spec["leaseTransitions"] = JSONValue(transitions) }
        let object: JSONValue = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .object(metadata), "spec": .object(spec)]
        guard let data = try? object.encoded(sortedKeys: true) else {
            throw KubernetesError(code: 0, reason: "Internal", message: "cannot encode the Lease")
        }
        return Array(data)
    }
}

/// metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits, UTC (`2006-01-02T15:04:05.000000Z`).
enum MicroTime {
    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let whole = InternetTime.format(Date(timeIntervalSince1970: seconds))
        return String(whole.dropLast()) + "." + InternetTime.pad(min(micros, 999_999), 6) + "Z"
    }

    /// With or without a fraction of any length.
    static func parse(_ text: String) -> Date? { InternetTime.parse(text) }
}

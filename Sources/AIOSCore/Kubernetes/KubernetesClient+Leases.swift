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

    /// Every Lease matching `labelSelector`, in pages of `listPageSize` (one published definition is one Lease:
    /// at 10,000 definitions one unpaged answer is megabytes).
    public func listLeases(namespace: String, labelSelector: String) throws(KubernetesError) -> [String: LeaseRecord] {
        try listLeasesForWatch(namespace: namespace, labelSelector: labelSelector).leases
    }

    public func listLeasesForWatch(namespace: String, labelSelector: String) throws(KubernetesError) -> (leases: [String: LeaseRecord], resourceVersion: String) {
        let listed: (items: [LeaseObject], resourceVersion: String) = try listPagesAndVersion(
            Self.selectedLeasesPath(namespace: namespace, labelSelector: labelSelector),
            what: "Leases in \(namespace)", kind: "LeaseList", read: LeaseObject.page)
        var leases: [String: LeaseRecord] = [:]
        for item in listed.items {
            guard let name = item.name else { continue }
            leases[name] = item.record
        }
        return (leases, listed.resourceVersion)
    }

    public func watchLeases(namespace: String, labelSelector: String, from resourceVersion: String, timeoutSeconds: Int,
                            onChange: (LeaseChange) -> Void) throws(KubernetesError) -> KubernetesWatch.Outcome {
        let watch = KubernetesWatch(client: self, path: Self.selectedLeasesPath(namespace: namespace, labelSelector: labelSelector))
        return try watch.watchLines(from: resourceVersion, timeoutSeconds: timeoutSeconds) { line in
            // A line that is not an event, or an object without a name, is skipped, as a list item of that kind is.
            guard let event = LeaseObject.watchEvent(line) else { return true }
            let version = event.lease.record.resourceVersion
            switch event.type {
            case "ADDED", "MODIFIED":
                if let name = event.lease.name { onChange(LeaseChange(name: name, kind: .put(event.lease.record), resourceVersion: version)) }
            case "DELETED":
                if let name = event.lease.name { onChange(LeaseChange(name: name, kind: .deleted, resourceVersion: version)) }
            case "BOOKMARK":
                onChange(LeaseChange(name: "", kind: .progress, resourceVersion: version))
            case "ERROR":
                // A Status; 410 Gone / Expired means the history no longer reaches our resourceVersion.
                return event.code != 410
            default:
                break
            }
            return true
        }
    }

    private static func selectedLeasesPath(namespace: String, labelSelector: String) -> String {
        "\(leasesPath(namespace: namespace))?labelSelector=\(PercentEncoding.queryValue(labelSelector, alsoEscaping: "&=+"))"
    }

    public func deleteLease(namespace: String, name: String) throws(KubernetesError) {
        let response = try send(.delete, "\(Self.leasesPath(namespace: namespace))/\(name)")
        guard response.status == 200 || response.status == 202 || response.status == 404 else {
            throw Self.error(from: response, doing: "delete Lease \(namespace)/\(name)")
        }
    }

    // MARK: Wire

    static func decodeLease(_ body: [UInt8], what: String) throws(KubernetesError) -> LeaseRecord {
        guard let object = try? JSONDecoder().decode(LeaseObject.self, from: Data(body)) else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "\(what) is not a Lease")
        }
        return object.record
    }

    /// The fields of a Lease aiosd reads, decoded directly (a generic JSON tree of a 10,000-Lease list cost a
    /// second of CPU per heartbeat). A field of the wrong type reads as absent, as it did in that tree.
    struct LeaseObject: Decodable {
        var name: String?
        var record: LeaseRecord

        private enum Keys: String, CodingKey { case metadata, spec, name, labels, annotations, resourceVersion,
                                                   holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions }

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: Keys.self)
            let metadata = try? object.nestedContainer(keyedBy: Keys.self, forKey: .metadata)
            let spec = try? object.nestedContainer(keyedBy: Keys.self, forKey: .spec)
            func time(_ key: Keys) -> Date? { ((try? spec?.decodeIfPresent(String.self, forKey: key)) ?? nil).flatMap(MicroTime.parse) }
            name = (try? metadata?.decodeIfPresent(String.self, forKey: .name)) ?? nil
            record = LeaseRecord(holderIdentity: (try? spec?.decodeIfPresent(String.self, forKey: .holderIdentity)) ?? nil,
                                 leaseDurationSeconds: (try? spec?.decodeIfPresent(Int.self, forKey: .leaseDurationSeconds)) ?? nil,
                                 acquireTime: time(.acquireTime), renewTime: time(.renewTime),
                                 leaseTransitions: (try? spec?.decodeIfPresent(Int.self, forKey: .leaseTransitions)) ?? nil,
                                 labels: ((try? metadata?.decodeIfPresent([String: String].self, forKey: .labels)) ?? nil) ?? [:],
                                 annotations: ((try? metadata?.decodeIfPresent([String: String].self, forKey: .annotations)) ?? nil) ?? [:],
                                 resourceVersion: ((try? metadata?.decodeIfPresent(String.self, forKey: .resourceVersion)) ?? nil) ?? "")
        }
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

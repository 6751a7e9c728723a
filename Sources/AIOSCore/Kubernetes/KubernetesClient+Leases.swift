import Foundation

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
        let query = labelSelector.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? ""
        let response = try send(.get, "\(Self.leasesPath(namespace: namespace))?labelSelector=\(query)")
        guard response.status == 200 else { throw Self.error(from: response, doing: "list Leases in \(namespace)") }
        guard let list = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "the Lease list is not a LeaseList")
        }
        var leases: [String: LeaseRecord] = [:]
        for item in list["items"] as? [[String: Any]] ?? [] {
            guard let name = (item["metadata"] as? [String: Any])?["name"] as? String else { continue }
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
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "\(what) is not a Lease")
        }
        return lease(from: object)
    }

    static func lease(from object: [String: Any]) -> LeaseRecord {
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        let spec = object["spec"] as? [String: Any] ?? [:]
        return LeaseRecord(holderIdentity: spec["holderIdentity"] as? String, leaseDurationSeconds: spec["leaseDurationSeconds"] as? Int,
                           acquireTime: (spec["acquireTime"] as? String).flatMap(MicroTime.parse),
                           renewTime: (spec["renewTime"] as? String).flatMap(MicroTime.parse),
                           leaseTransitions: spec["leaseTransitions"] as? Int,
                           labels: metadata["labels"] as? [String: String] ?? [:],
                           annotations: metadata["annotations"] as? [String: String] ?? [:],
                           resourceVersion: metadata["resourceVersion"] as? String ?? "")
    }

    static func leaseBody(namespace: String, name: String, _ record: LeaseRecord, withVersion: Bool) throws(KubernetesError) -> [UInt8] {
        var metadata: [String: Any] = ["name": name, "namespace": namespace]
        if !record.labels.isEmpty { metadata["labels"] = record.labels }
        if !record.annotations.isEmpty { metadata["annotations"] = record.annotations }
        if withVersion { metadata["resourceVersion"] = record.resourceVersion }
        var spec: [String: Any] = [:]
        if let holder = record.holderIdentity { spec["holderIdentity"] = holder }
        if let seconds = record.leaseDurationSeconds { spec["leaseDurationSeconds"] = seconds }
        if let time = record.acquireTime { spec["acquireTime"] = MicroTime.format(time) }
        if let time = record.renewTime { spec["renewTime"] = MicroTime.format(time) }
        if let transitions = record.leaseTransitions { spec["leaseTransitions"] = transitions }
        let object: [String: Any] = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
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
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let whole = formatter.string(from: Date(timeIntervalSince1970: seconds))
        return String(whole.dropLast()) + "." + String(format: "%06d", min(micros, 999_999)) + "Z"
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        // More than three fractional digits: ISO8601DateFormatter may refuse them; parse the fraction by hand.
        guard let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) else {
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.date(from: text)
        }
        formatter.formatOptions = [.withInternetDateTime]
        guard let whole = formatter.date(from: String(text[..<dot]) + String(text[zone...])),
              let fraction = Double("0" + text[dot..<zone]) else { return nil }
        return whole.addingTimeInterval(fraction)
    }
}

import FoundationEssentials

/// A page of a Lease list read from a `JSONTree` that keeps only the members `LeaseObject` reads: a page holds 500
/// Leases with their managedFields, and JSONDecoder's tree of every page was most of the once-a-minute read of
/// 10,000 published definitions (3% of a first sync's CPU at that scale, perf). Same rules as decoding
/// `ListPage<LeaseObject>`: the page and each item must be objects, `metadata.continue` a string or null; a Lease's
/// own fields are each taken when they have their type and left out when not.
extension KubernetesClient.LeaseObject {
    static func page(_ bytes: [UInt8]) -> KubernetesClient.Page<Self>? {
        KubernetesClient.Page.read(bytes, keeping: keeps) { Self($0) }
    }

    /// The members read: the page's `metadata.continue` and `metadata.resourceVersion`, and each item's name,
    /// labels, annotations, resourceVersion and spec.
    private static func keeps(_ path: [String]) -> Bool {
        switch path.count {
        case 1: return path[0] == "metadata" || path[0] == "items"
        case 2: return path[0] == "metadata" ? path[1] == "continue" || path[1] == "resourceVersion" : path[1] == "metadata" || path[1] == "spec"
        case 3: return (path[1] == "spec" ? specFields : metadataFields).contains(path[2])
        default: return path[0] == "items" && path[1] == "metadata" && (path[2] == "labels" || path[2] == "annotations")
        }
    }

    /// One event of a watch of Leases (`{"type": ..., "object": {...}}`) read from a `JSONTree` that keeps the
    /// type, the object's members a Lease is read by (as in a list page) and an ERROR Status's `code`: a burst of
    /// 10,000 definitions published is 10,000 events. nil when the line is not an object with a string type and an
    /// object.
    static func watchEvent(_ line: [UInt8]) -> (type: String, lease: Self, code: Int?)? {
        let keep: ([String]) -> Bool = { path in
            switch path.count {
            case 1: return path[0] == "type" || path[0] == "object"
            case 2 where path[0] == "object" && path[1] == "code": return true
            default: return path[0] == "object" && keeps(["items"] + path.dropFirst())
            }
        }
        guard let members = JSONTree(parsing: line, keeping: keep)?.object,
              case .string(let type)? = members["type"], case .object(let object)? = members["object"] else { return nil }
        var code: Int?
        if case .number(let text)? = object["code"] { code = JSONTree.integer(text) }
        return (type, Self(object), code)
    }

    private static let metadataFields: Set = ["name", "labels", "annotations", "resourceVersion"]
    private static let specFields: Set = ["holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions"]

    private init(_ item: [String: JSONTree]) {
        let metadata = item["metadata"]?.object ?? [:]
        let spec = item["spec"]?.object ?? [:]
        func string(_ field: JSONTree?) -> String? { if case .string(let value)? = field { value } else { nil } }
        func int(_ field: JSONTree?) -> Int? {
            guard case .number(let text)? = field else { return nil }
            return JSONTree.integer(text)
        }
        func strings(_ field: JSONTree?) -> [String: String] {
            guard case .object(let members)? = field else { return [:] }
            var strings: [String: String] = [:]
            for (key, value) in members {
                guard case .string(let text) = value else { return [:] }
                strings[key] = text
            }
            return strings
        }
        name = string(metadata["name"])
        record = LeaseRecord(holderIdentity: string(spec["holderIdentity"]), leaseDurationSeconds: int(spec["leaseDurationSeconds"]),
                             acquireTime: string(spec["acquireTime"]).flatMap(MicroTime.parse),
                             renewTime: string(spec["renewTime"]).flatMap(MicroTime.parse),
                             leaseTransitions: int(spec["leaseTransitions"]), labels: strings(metadata["labels"]),
                             annotations: strings(metadata["annotations"]), resourceVersion: string(metadata["resourceVersion"]) ?? "")
    }
}

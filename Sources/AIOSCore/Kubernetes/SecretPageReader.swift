/// A page of a Secret list read from a `JSONTree` that keeps only the members `SecretObject` reads: every sync cycle
/// lists aiosd's Secrets (metadata only, 500 a page, ~0.9 KB each, most of it managedFields), and JSONDecoder's
/// scan of every page was the largest block a steady cycle allocated (heaptrack, 2,000 definitions). Same rules
/// as decoding `ListPage<SecretObject>`: the page and each item must be objects, `metadata.continue` a string or
/// null; an item's `metadata` and its `name` are required; its other fields must have their type where present.
extension KubernetesClient.SecretObject {
    static func page(_ bytes: [UInt8]) -> KubernetesClient.Page<Self>? {
        KubernetesClient.Page.read(bytes, keeping: keeps) { Self($0) }
    }

    /// The members read: the page's `metadata.continue`, and each item's `kind`, `type` and metadata fields.
    private static func keeps(_ path: [String]) -> Bool {
        switch path.count {
        case 1: return path[0] == "metadata" || path[0] == "items"
        case 2: return path[0] == "metadata" ? path[1] == "continue" : itemFields.contains(path[1])
        case 3: return path[1] == "metadata" && metadataFields.contains(path[2])
        default: return path[0] == "items" && path[1] == "metadata" && (path[2] == "labels" || path[2] == "annotations")
        }
    }

    private static let itemFields: Set = ["metadata", "kind", "type"]
    private static let metadataFields: Set = ["name", "namespace", "uid", "resourceVersion", "labels", "annotations"]

    /// A `String?` field: absent or null is `.some(nil)`; any other type is nil (JSONDecoder throws).
    private static func optionalString(_ field: JSONTree?) -> String?? {
        switch field {
        case nil, .null?: return .some(nil)
        case .string(let value)?: return .some(value)
        default: return nil
        }
    }

    /// A `[String: String]?` field, as `optionalString`.
    private static func optionalStrings(_ field: JSONTree?) -> [String: String]?? {
        switch field {
        case nil, .null?: return .some(nil)
        case .object(let members)?:
            var strings: [String: String] = [:]
            strings.reserveCapacity(members.count)
            for (key, value) in members {
                guard case .string(let text) = value else { return nil }
                strings[key] = text
            }
            return .some(strings)
        default: return nil
        }
    }

    private init?(_ item: [String: JSONTree]) {
        guard case .object(let metadata)? = item["metadata"], case .string(let name)? = metadata["name"],
              let namespace = Self.optionalString(metadata["namespace"]), let uid = Self.optionalString(metadata["uid"]),
              let resourceVersion = Self.optionalString(metadata["resourceVersion"]),
              let labels = Self.optionalStrings(metadata["labels"]), let annotations = Self.optionalStrings(metadata["annotations"]),
              let type = Self.optionalString(item["type"]), let kind = Self.optionalString(item["kind"]) else { return nil }
        self.init(metadata: Metadata(name: name, namespace: namespace, uid: uid, resourceVersion: resourceVersion, labels: labels,
                                     annotations: annotations),
                  type: type, kind: kind)
    }
}

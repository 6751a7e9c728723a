extension KubernetesClient.Page {
    /// A list page read from a `JSONTree` that keeps only what `keep` wants (`JSONTree(parsing:keeping:)`), by the
    /// rules JSONDecoder reads `ListPage<Item>` with: the page and each item must be objects, `metadata.continue` a
    /// string or null, and `item` must take every item (nil refuses the page).
    static func read(_ bytes: [UInt8], keeping keep: @escaping (_ path: [String]) -> Bool, item: ([String: JSONTree]) -> Item?) -> Self? {
        guard let members = JSONTree(parsing: bytes, keeping: keep)?.object else { return nil }
        var next: String?
        var version: String?
        switch members["metadata"] {
        case nil, .null?: break
        case .object(let metadata)?:
            // Kept by the Lease reader only (a watch starts at it); taken when it is a string, as a Lease's own is.
            if case .string(let text)? = metadata["resourceVersion"] { version = text }
            switch metadata["continue"] {
            case nil, .null?: break
            case .string(let token)?: next = token
            default: return nil
            }
        default: return nil
        }
        switch members["items"] {
        case nil, .null?:
            return Self(items: [], next: next, resourceVersion: version)
        case .array(let elements)?:
            var items: [Item] = []
            items.reserveCapacity(elements.count)
            for element in elements {
                guard case .object(let members) = element, let read = item(members) else { return nil }
                items.append(read)
            }
            return Self(items: items, next: next, resourceVersion: version)
        default:
            return nil
        }
    }
}

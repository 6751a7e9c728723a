/// A composed YAML node: what `YAMLLoader` builds from libyaml's events. Scalars keep their text as written;
/// only `isNull` resolves a tag, since every reader converts the text it expects itself.
public struct YAMLNode: Sendable {
    /// Where the node starts in its document, 1-based (line and column in Unicode scalars, as libyaml counts).
    public struct Mark: Sendable, Equatable {
        public let line: Int
        public let column: Int
    }

    public struct Scalar: Sendable {
        public let string: String
        /// Written unquoted (not quoted, not a block scalar): only such text resolves to null.
        let isPlain: Bool
        /// An explicit tag (`!!null` is `tag:yaml.org,2002:null`), nil if none.
        let tag: String?
    }

    /// A mapping's pairs in document order, keys included as nodes (for their position).
    public struct Mapping: Sendable, Sequence {
        public let pairs: [(key: YAMLNode, value: YAMLNode)]

        public func makeIterator() -> IndexingIterator<[(key: YAMLNode, value: YAMLNode)]> { pairs.makeIterator() }

        /// The value of the first pair whose key is the scalar `key`.
        public subscript(_ key: String) -> YAMLNode? {
            pairs.first(where: { $0.key.scalar?.string == key })?.value
        }
    }

    enum Content: Sendable {
        case scalar(Scalar)
        case sequence([YAMLNode])
        case mapping(Mapping)
    }

    let content: Content
    /// Always set; optional so that readers can pass a node's position on as an optional line and column.
    public let mark: Mark?

    public var scalar: Scalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let elements) = content { return elements }
        return nil
    }

    public var mapping: Mapping? {
        if case .mapping(let mapping) = content { return mapping }
        return nil
    }

    /// A scalar's text, nil for a collection.
    public var string: String? { scalar?.string }

    /// The value under `key` of a mapping.
    public subscript(_ key: String) -> YAMLNode? { mapping?[key] }

    /// YAML's null (YAML 1.1/1.2 core schema): `~`, `null`, `Null`, `NULL` or nothing, unquoted; or tagged `!!null`.
    public var isNull: Bool {
        guard let scalar else { return false }
        if let tag = scalar.tag { return tag == "tag:yaml.org,2002:null" }
        return scalar.isPlain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

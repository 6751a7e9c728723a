private typealias Field = KeyVaultWire.FieldReader

/// A page of Key Vault's secret list (`GET /secrets`, `GET /secrets/NAME/versions`) read from a `JSONTree` instead of
/// through JSONDecoder, whose scan of the pages was 11.8% of a steady cycle's CPU at 1,000 secrets (perf; 401 pages a
/// cycle at 10,000). `KeyVaultWire.ListResult`'s Decodable rules: `value` an array of
/// objects or absent/null, `nextLink` a string or absent/null, each item's fields as `Bundle(json:)` reads them,
/// unknown fields ignored; anything else refuses the page.
extension KeyVaultWire.ListResult {
    init?(json bytes: [UInt8]) {
        guard let members = JSONTree(parsing: bytes)?.object else { return nil }
        do {
            nextLink = try Field.string(members["nextLink"])
            switch members["value"] {
            case nil, .null?: value = nil
            case .array(let elements)?:
                var items: [KeyVaultWire.Item] = []
                items.reserveCapacity(elements.count)
                for element in elements {
                    // An element that is not an object (null included) refuses the page, as JSONDecoder's [Item] does.
                    guard case .object(let fields) = element else { return nil }
                    items.append(try KeyVaultWire.Item(fields: fields))
                }
                value = items
            default: return nil
            }
        } catch {
            return nil
        }
    }
}

extension KeyVaultWire.Item {
    init(fields: [String: JSONTree]) throws(KeyVaultWire.FieldReader.WrongType) {
        id = try Field.string(fields["id"])
        contentType = try Field.string(fields["contentType"])
        managed = try Field.bool(fields["managed"])
        attributes = try Field.attributes(fields["attributes"])
        tags = try Field.tags(fields["tags"])
    }
}

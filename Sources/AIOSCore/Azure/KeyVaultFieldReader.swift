/// The field rules of `KeyVaultWire`'s Decodable types, for the readers that take Key Vault's answers from a `JSONTree`
/// (`Bundle(json:)`, `ListResult(json:)`): null is absent, a field of another type refuses the whole answer.
extension KeyVaultWire {
    enum FieldReader {
        struct WrongType: Error {}

        static func string(_ field: JSONTree?) throws(WrongType) -> String? {
            switch field {
            case nil, .null?: nil
            case .string(let value)?: value
            default: throw WrongType()
            }
        }

        static func bool(_ field: JSONTree?) throws(WrongType) -> Bool? {
            switch field {
            case nil, .null?: nil
            case .bool(let value)?: value
            default: throw WrongType()
            }
        }

        static func tags(_ field: JSONTree?) throws(WrongType) -> [String: String]? {
            switch field {
            case nil, .null?: return nil
            case .object(let members)?:
                var tags: [String: String] = [:]
                for (key, value) in members {
                    guard case .string(let text) = value else { throw WrongType() }
                    tags[key] = text
                }
                return tags
            default: throw WrongType()
            }
        }

        static func attributes(_ field: JSONTree?) throws(WrongType) -> KeyVaultWire.Attributes? {
            switch field {
            case nil, .null?: return nil
            case .object(let members)?:
                return KeyVaultWire.Attributes(enabled: try bool(members["enabled"]), created: try unixTime(members["created"]),
                                               updated: try unixTime(members["updated"]), exp: try unixTime(members["exp"]),
                                               nbf: try unixTime(members["nbf"]))
            default: throw WrongType()
            }
        }

        /// A whole number as it is; any other finite number below 1e15 truncated (`Attributes.unixTime`).
        static func unixTime(_ field: JSONTree?) throws(WrongType) -> Int? {
            switch field {
            case nil, .null?: return nil
            case .number(let text)?:
                // JSONDecoder reads `1e15` or `12.0` as an Int too: a whole number in any notation.
                if let value = JSONTree.integer(text) { return value }
                guard let value = Double(text), value.isFinite, abs(value) < 1e15 else { throw WrongType() }
                return Int(value)
            default: throw WrongType()
            }
        }
    }
}

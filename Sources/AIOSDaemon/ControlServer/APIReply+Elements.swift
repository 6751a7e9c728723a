import AIOSAPI
import FoundationEssentials

extension APIReply {
    /// `value` as `json(_:)` writes it, its empty array `member` filled with `elements`, each made and encoded in
    /// turn: the same text, without JSONEncoder's tree of every element at once (`secret list` of 2,000
    /// definitions held 7.8 MB of it, heaptrack, and glibc kept 4.4 MiB of the daemon's RSS afterwards).
    /// `value` must encode `member` as `[]` at its top level (one member of that name: keys are unique).
    static func json<Elements: Sequence>(_ value: some Encodable, member: String, elements: Elements) -> APIReply
    where Elements.Element: Encodable {
        do {
            let encoder = APICoding.encoder()
            let text = Array(try encoder.encode(value))
            // A string holding the same characters is written with its quotes escaped, so this finds the member.
            guard let empty = text.firstRange(of: Array("\"\(member)\":[]".utf8)) else {
                return .error(APIError(code: .internalError, message: "cannot encode the response: no member \(member)"))
            }
            var body = Array(text[..<(empty.upperBound - 1)])
            var first = true
            for element in elements {
                if !first { body.append(UInt8(ascii: ",")) }
                first = false
                body += try encoder.encode(element)
            }
            body += text[(empty.upperBound - 1)...]
            body.append(0x0A)
            return APIReply(status: 200, body: body)
        } catch {
            return .error(APIError(code: .internalError, message: "cannot encode the response: \(error)"))
        }
    }
}

import AIOSAPI
import FoundationEssentials

/// A handler of one typed method of the contract (`API`): its endpoint, the body it decodes and the response it
/// answers come from the method's declaration, so a handler cannot drift from what aiosctl expects.
protocol APIMethodHandler: APIHandler {
    associatedtype Request: Codable & Sendable
    associatedtype Response: Codable & Sendable
    var method: APIMethod<Request, Response> { get }
}

extension APIMethodHandler {
    var endpoint: Endpoint { method.endpoint }

    /// The method's response as JSON.
    func reply(_ response: Response, status: Int = 200) -> APIReply { .json(response, status: status) }

    /// `response`, whose array `member` is empty, with `elements` in it, each made and encoded in turn (a list of
    /// every definition: see `APIReply.json(_:member:elements:)`).
    func reply<Elements: Sequence>(_ response: Response, filling member: String, with elements: Elements) -> APIReply
    where Elements.Element: Encodable {
        .json(response, member: member, elements: elements)
    }

    /// The request's body as the method's request type; an empty body is `{}` where the method allows it.
    /// `expected` shows the caller the shape in the 400's message.
    func body(of request: APIRequest, expected: String) throws(APIError) -> Request {
        let bytes = request.body.isEmpty && method.bodyOptional ? Array("{}".utf8) : request.body
        do {
            return try APICoding.decoder().decode(Request.self, from: Data(bytes))
        } catch {
            throw APIError(code: .badRequest, message: "expected \(expected): \(error)")
        }
    }
}

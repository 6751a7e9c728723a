import AIOSAPI
import AIOSCore

/// Refuses a request whose path or JSON body holds text the API does not accept (`APIText`), before any handler
/// sees it: one check for every endpoint, so no handler can forget it.
enum RequestText {
    static func problem(path: String, body: [UInt8]) -> APIError? {
        let decodedPath = PercentEncoding.decode(path) ?? path
        if let character = APIText.forbiddenCharacter(in: decodedPath) {
            return refusal("the request path contains \(character)")
        }
        guard !body.isEmpty, let json = JSONValue(parsing: body) else {
            return nil  // not JSON: the handler's decoder says what is wrong
        }
        return firstProblem(in: json, at: "")
    }

    private static func firstProblem(in value: JSONValue, at path: String) -> APIError? {
        switch value {
        case .string(let text):
            return APIText.forbiddenCharacter(in: text).map { refusal("\(path.isEmpty ? "the body" : path) contains \($0)") }
        case .object(let object):
            for (key, element) in object {
                let location = path.isEmpty ? key : "\(path).\(key)"
                if let character = APIText.forbiddenCharacter(in: key) { return refusal("a key of \(path.isEmpty ? "the body" : path) contains \(character)") }
                if let problem = firstProblem(in: element, at: location) { return problem }
            }
            return nil
        case .array(let array):
            for (index, element) in array.enumerated() {
                if let problem = firstProblem(in: element, at: "\(path)[\(index)]") { return problem }
            }
            return nil
        default:
            return nil
        }
    }

    private static func refusal(_ what: String) -> APIError {
        APIError(code: .badRequest, message: "\(what): control characters and line or paragraph separators are not accepted; nothing was changed")
    }
}

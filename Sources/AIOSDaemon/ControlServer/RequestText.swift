import AIOSAPI
import Foundation

/// Refuses a request whose path or JSON body holds text the API does not accept (`APIText`), before any handler
/// sees it: one check for every endpoint, so no handler can forget it.
enum RequestText {
    static func problem(path: String, body: [UInt8]) -> APIError? {
        let decodedPath = path.removingPercentEncoding ?? path
        if let character = APIText.forbiddenCharacter(in: decodedPath) {
            return refusal("the request path contains \(character)")
        }
        guard !body.isEmpty, let json = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return nil  // not JSON: the handler's decoder says what is wrong
        }
        return firstProblem(in: json, at: "")
    }

    private static func firstProblem(in value: Any, at path: String) -> APIError? {
        switch value {
        case let text as String:
            return APIText.forbiddenCharacter(in: text).map { refusal("\(path.isEmpty ? "the body" : path) contains \($0)") }
        case let object as [String: Any]:
            for (key, element) in object {
                let location = path.isEmpty ? key : "\(path).\(key)"
                if let character = APIText.forbiddenCharacter(in: key) { return refusal("a key of \(path.isEmpty ? "the body" : path) contains \(character)") }
                if let problem = firstProblem(in: element, at: location) { return problem }
            }
            return nil
        case let array as [Any]:
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

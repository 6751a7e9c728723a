@testable import AIOSCore
import AIOSHTTP
import Foundation

/// Key Vaults on the data plane: the 401 challenge, the list of secrets, each secret's latest value; disabled and
/// missing secrets answer as Key Vault does. `faults` answer GETs of one secret instead (403, 429, 500, ...).
final class FakeVaults: @unchecked Sendable {
    struct Item {
        var value: String
        var enabled = true
        var updated: Int
        var version: String
    }

    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var vaults: [String: [String: Item]] = [:]
    private var faults: [String: HTTPResponse] = [:]
    private var listFaults: [String: HTTPResponse] = [:]
    private var listDelays: [String: Duration] = [:]
    private var _gets: [String] = []
    private var _tokens: [String] = []
    private var nextVersion = 0

    /// Sets (or changes) a secret: a new version and `updated` time, as `az keyvault secret set` does.
    func set(_ vault: String, _ name: String, _ value: String, enabled: Bool = true, updated: Int? = nil) {
        lock.withLock {
            nextVersion += 1
            let previous = vaults[vault]?[name]?.updated ?? 1_767_225_600
            vaults[vault, default: [:]][name] = Item(value: value, enabled: enabled, updated: updated ?? previous + 10,
                                                      version: String(format: "%032x", nextVersion))
        }
    }

    func delete(_ vault: String, _ name: String) { lock.withLock { vaults[vault]?[name] = nil } }
    func fail(_ vault: String, _ name: String, with response: HTTPResponse?) { lock.withLock { faults["\(vault)/\(name)"] = response } }
    func failList(_ vault: String, with response: HTTPResponse?) { lock.withLock { listFaults[vault] = response } }
    /// A vault that takes `delay` to answer each list request (a large vault's list pass: no definition finishes).
    func slowList(_ vault: String, by delay: Duration?) { lock.withLock { listDelays[vault] = delay } }

    /// "vault/secret" of every value read.
    var gets: [String] { lock.withLock { _gets } }
    /// The bearer tokens requests carried.
    var tokens: [String] { lock.withLock { _tokens } }

    var transport: HTTPTransport {
        HTTPTransport { request throws(HTTPClientError) in self.handle(request) }
    }

    static func error(_ status: Int, _ code: String, inner: String? = nil, _ message: String = "refused") -> HTTPResponse {
        var error: [String: Any] = ["code": code, "message": message]
        if let inner { error["innererror"] = ["code": inner] }
        return FakeKubernetes.json(status, ["error": error])
    }

    private func handle(_ request: HTTPRequest) -> HTTPResponse {
        let url = URLComponents(string: request.url)!
        let vault = String(url.host!.split(separator: ".")[0])
        guard let authorization = request.headers.first(where: { $0.name == "Authorization" })?.value else {
            return HTTPResponse(status: 401, body: Array(#"{"error":{"code":"Unauthorized","message":"no token"}}"#.utf8),
                                headers: [("WWW-Authenticate", #"Bearer authorization="https://login.microsoftonline.com/tenant-kv", resource="https://vault.azure.net""#)])
        }
        let parts = url.path.split(separator: "/").map(String.init)
        if parts == ["secrets"], let delay = lock.withLock({ listDelays[vault] }) {
            Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        }
        return lock.withLock {
            _tokens.append(String(authorization.dropFirst("Bearer ".count)))
            let base = "https://\(url.host!)"
            if parts == ["secrets"] {
                if let fault = listFaults[vault] { return fault }
                let items: [[String: Any]] = (vaults[vault] ?? [:]).sorted { $0.key < $1.key }.map { name, item in
                    ["id": "\(base)/secrets/\(name)", "attributes": ["enabled": item.enabled, "updated": item.updated, "created": 1_767_225_600]]
                }
                return FakeKubernetes.json(200, ["value": items, "nextLink": NSNull()])
            }
            guard parts.count == 2, parts[0] == "secrets" else { return Self.error(400, "BadParameter") }
            let name = parts[1]
            _gets.append("\(vault)/\(name)")
            if let fault = faults["\(vault)/\(name)"] { return fault }
            guard let item = vaults[vault]?[name] else {
                return Self.error(404, "SecretNotFound", "A secret with (name/id) \(name) was not found in this key vault.")
            }
            guard item.enabled else { return Self.error(403, "Forbidden", inner: "SecretDisabled", "Operation get is not allowed on a disabled secret.") }
            return FakeKubernetes.json(200, ["value": item.value, "id": "\(base)/secrets/\(name)/\(item.version)",
                                             "attributes": ["enabled": true, "updated": item.updated, "created": 1_767_225_600]])
        }
    }
}

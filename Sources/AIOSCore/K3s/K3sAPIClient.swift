import AIOSHTTP
import FoundationEssentials

/// The few calls aiosd makes to the K3s API server with the admin credentials: readiness and the issuer it serves.
/// Blocking (libcurl); call from a thread of its own.
public struct K3sAPIClient: Sendable {
    public let kubeconfig: Kubeconfig

    public init(kubeconfig: Kubeconfig) { self.kubeconfig = kubeconfig }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// `GET /readyz`: true only on HTTP 200 with body `ok`; K3s' own notion of readiness is not trusted alone.
    public func isReady(timeout: Duration = .seconds(5)) -> Bool {
        guard let response = try? get("/readyz", timeout: timeout) else { return false }
        return response.status == 200 && String(decoding: response.body, as: UTF8.self).hasPrefix("ok")
    }

    /// Polls `/readyz` until it answers ok or `deadline` passes.
    public func waitUntilReady(within timeout: Duration, interval: Duration = .milliseconds(500)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isReady(timeout: min(.seconds(5), deadline - ContinuousClock.now)) { return true }
            ThreadSleep.sleep(seconds: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
        }
        return false
    }

    /// The issuer the API server serves at `/.well-known/openid-configuration` (its first `service-account-issuer`).
    public func servedIssuer() throws(Failure) -> String {
        let response: HTTPResponse
        do {
            response = try get("/.well-known/openid-configuration", timeout: .seconds(10))
        } catch {
            throw Failure(description: "cannot reach the API server at \(kubeconfig.server): \(error)")
        }
        guard response.status == 200 else {
            throw Failure(description: "the API server answered HTTP \(response.status) for /.well-known/openid-configuration")
        }
        struct Discovery: Decodable { var issuer: String }
        guard let discovery = try? JSONDecoder().decode(Discovery.self, from: Data(response.body)) else {
            throw Failure(description: "the API server's /.well-known/openid-configuration has no issuer")
        }
        return discovery.issuer
    }

    private func get(_ path: String, timeout: Duration) throws(HTTPClientError) -> HTTPResponse {
        let base = kubeconfig.server.hasSuffix("/") ? String(kubeconfig.server.dropLast()) : kubeconfig.server
        return try HTTPClient().send(HTTPRequest(method: .get, url: base + path, headers: [("Accept", "application/json")],
                                                 timeout: timeout, tls: kubeconfig.tlsCredentials, bypassesProxy: true,
                                                 maximumResponseBytes: 1 << 20))
    }
}

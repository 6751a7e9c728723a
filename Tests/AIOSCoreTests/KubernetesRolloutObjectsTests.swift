@testable import AIOSCore
import AIOSHTTP
import Foundation
import Testing

/// The rollout's cluster objects as `KubernetesClient` sends them, against an in-memory API server that keeps
/// a ConfigMap, a Lease and Nodes the way the real one does: a new resourceVersion per write, 409 for a name
/// that exists or a write at a stale resourceVersion.
@Suite struct KubernetesRolloutObjectsTests {
    final class ObjectServer: @unchecked Sendable {
        private let lock = NSLock()
        private var objects: [String: [String: Any]] = [:]
        private var version = 1
        var nodes: [[String: Any]] = []
        private(set) var nodeQuery: String?

        func answer(_ request: HTTPRequest) -> HTTPResponse? {
            let url = URLComponents(string: request.url)!
            let path = url.path
            return lock.withLock {
                if path == "/api/v1/nodes" {
                    nodeQuery = url.percentEncodedQuery
                    return FakeKubernetes.json(200, ["kind": "NodeList", "items": nodes])
                }
                let body = (try? JSONSerialization.jsonObject(with: Data(request.body ?? []))) as? [String: Any] ?? [:]
                let metadata = body["metadata"] as? [String: Any] ?? [:]
                switch request.method {
                case .get:
                    guard let object = objects[path] else { return FakeKubernetes.status(404, "NotFound", "not found") }
                    return FakeKubernetes.json(200, object)
                case .post:
                    let key = path + "/" + (metadata["name"] as? String ?? "")
                    guard objects[key] == nil else { return FakeKubernetes.status(409, "AlreadyExists", "already exists") }
                    return FakeKubernetes.json(201, store(body, at: key))
                case .put:
                    guard let old = objects[path] else { return FakeKubernetes.status(404, "NotFound", "not found") }
                    let have = (old["metadata"] as? [String: Any])?["resourceVersion"] as? String
                    if let want = metadata["resourceVersion"] as? String, want != have {
                        return FakeKubernetes.status(409, "Conflict", "the object has been modified")
                    }
                    return FakeKubernetes.json(200, store(body, at: path))
                default:
                    return FakeKubernetes.status(405, "MethodNotAllowed", "no")
                }
            }
        }

        private func store(_ body: [String: Any], at key: String) -> [String: Any] {
            version += 1
            var object = body
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            metadata["resourceVersion"] = "\(version)"
            object["metadata"] = metadata
            objects[key] = object
            return object
        }

        /// Someone else writes the object (a new resourceVersion).
        func touch(_ key: String) { lock.withLock { if let object = objects[key] { _ = store(object, at: key) } } }
        func object(_ key: String) -> [String: Any]? { lock.withLock { objects[key] } }
    }

    let configMap = "/api/v1/namespaces/kube-system/configmaps/aios-rollout"
    let lease = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/aios-k3s-restart"

    func world() throws -> (ObjectServer, KubernetesClient) {
        let server = ObjectServer()
        let api = FakeKubernetes()
        api.fault = { request in server.answer(request) }
        return (server, try api.client())
    }

    @Test func theRecordIsCreatedOnceAndReplacedOnlyAtTheVersionRead() throws {
        let (server, client) = try world()
        let store = KubernetesRolloutStore(client: client)
        #expect(try store.load() == nil)
        let rollout = K3sRollout(generation: 1, change: K3sDesiredChange(kind: .disableWorkloadIdentity, requester: .operator), requestedBy: "a",
                                 requestedAt: Date(timeIntervalSince1970: 1_800_000_000), servers: ["b", "a"])
        #expect(try store.save(rollout, replacing: nil))
        #expect(try store.save(rollout, replacing: nil) == false)  // created meanwhile by someone else: 409
        let (loaded, version) = try #require(try store.load())
        #expect(loaded == rollout)
        #expect((server.object(configMap)?["data"] as? [String: String])?["rollout.json"]?.contains("\"generation\":1") == true)
        server.touch(configMap)
        var next = loaded
        next.state = .succeeded
        #expect(try store.save(next, replacing: version) == false)
        let (_, fresh) = try #require(try store.load())
        #expect(try store.save(next, replacing: fresh))
        #expect(try store.load()?.rollout.state == .succeeded)
    }

    @Test func theLeaseHasOneHolderUntilItIsReleasedOrExpires() throws {
        let (server, client) = try world()
        let clock = Clock()
        let lock = KubernetesRestartLock(client: client, now: { clock.now })
        #expect(try lock.acquire(holder: "a", for: .seconds(600)))
        #expect(try lock.acquire(holder: "b", for: .seconds(600)) == false)
        #expect(try lock.acquire(holder: "a", for: .seconds(600)))  // its own: renewed
        let spec = try #require(server.object(lease)?["spec"] as? [String: Any])
        #expect(spec["holderIdentity"] as? String == "a" && spec["leaseDurationSeconds"] as? Int == 600)
        #expect((spec["renewTime"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil)
        try lock.release(holder: "b")  // not b's: nothing happens
        #expect((server.object(lease)?["spec"] as? [String: Any])?["holderIdentity"] as? String == "a")
        try lock.release(holder: "a")
        #expect(try lock.acquire(holder: "b", for: .seconds(60)))
        #expect((server.object(lease)?["spec"] as? [String: Any])?["leaseTransitions"] as? Int == 1)
        clock.now += 61
        #expect(try lock.acquire(holder: "a", for: .seconds(60)))  // b's lease expired
    }

    @Test func onlyTheHolderRenewsTheLeaseAndARenewalKeepsItPastItsFirstDuration() throws {
        let (server, client) = try world()
        let clock = Clock()
        let lock = KubernetesRestartLock(client: client, now: { clock.now })
        #expect(try lock.renew(holder: "a", for: .seconds(60)) == false, "no Lease: renewing creates none")
        #expect(server.object(lease) == nil)
        #expect(try lock.acquire(holder: "a", for: .seconds(60)))
        let first = (server.object(lease)?["spec"] as? [String: Any])?["renewTime"] as? String
        clock.now += 50
        #expect(try lock.renew(holder: "b", for: .seconds(60)) == false, "not b's")
        #expect(try lock.renew(holder: "a", for: .seconds(60)))
        let spec = try #require(server.object(lease)?["spec"] as? [String: Any])
        #expect(spec["holderIdentity"] as? String == "a" && spec["renewTime"] as? String != first)
        clock.now += 50  // 100 s after the acquire, 50 s after the renewal: still a's
        #expect(try lock.acquire(holder: "b", for: .seconds(60)) == false)
    }

    @Test func theServersAreTheControlPlaneNodesWithTheirReadyCondition() throws {
        let (server, client) = try world()
        func node(_ name: String, ready: String?) -> [String: Any] {
            ["metadata": ["name": name], "status": ["conditions": ready.map { [["type": "Ready", "status": $0]] } ?? []]]
        }
        server.nodes = [node("s1", ready: "True"), node("s2", ready: "Unknown"), node("s3", ready: nil)]
        let servers = try KubernetesServerDirectory(client: client).servers()
        #expect(server.nodeQuery == "labelSelector=node-role.kubernetes.io%2Fcontrol-plane")
        #expect(servers == [K3sServerNode(name: "s1", ready: true), K3sServerNode(name: "s2", ready: false), K3sServerNode(name: "s3", ready: false)])
    }

    @Test func microTimeRoundTrips() {
        let date = Date(timeIntervalSince1970: 1_800_000_000.012345)
        let text = KubernetesRestartLock.microTime(date)
        #expect(text == "2027-01-15T08:00:00.012345Z")
        #expect(abs((KubernetesRestartLock.parseMicroTime(text) ?? .distantPast).timeIntervalSince(date)) < 0.000_01)
        #expect(KubernetesRestartLock.parseMicroTime("2027-01-15T08:00:00Z") == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(KubernetesRestartLock.parseMicroTime("yesterday") == nil)
    }

    final class Clock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_800_000_000)
    }
}

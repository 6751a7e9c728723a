@testable import AIOSCore
import AIOSHTTP
import Foundation
import Logging
import Synchronization
import Testing
import AIOSTestSupport

/// The list + watch of SecretSyncs against a scripted API server: resume from the last resourceVersion, list
/// again after 410 Gone, reconnect after the API server went away.
@Suite struct KubernetesWatchTests {
    /// A scripted API server: the list answers come from `lists`, each watch of SecretSyncs plays the next
    /// script (events, then a status, or a transport failure); everything else is empty.
    final class ScriptedServer: @unchecked Sendable {
        enum Watch { case events([String], status: Int), unreachable }
        // @unchecked: every field is guarded by `lock`.
        private let lock = NSLock()
        private var lists: [(items: [String], version: String)]
        private var watches: [Watch]
        private var _watchQueries: [String] = []
        private var _listCount = 0

        init(lists: [(items: [String], version: String)], watches: [Watch]) {
            self.lists = lists
            self.watches = watches
        }

        var watchQueries: [String] { lock.withLock { _watchQueries } }
        var listCount: Int { lock.withLock { _listCount } }

        func client() throws -> KubernetesClient {
            KubernetesClient(kubeconfig: try Kubeconfig.parse(FakeKubernetes.kubeconfig, file: "k3s.yaml"),
                             transport: HTTPTransport { request throws(HTTPClientError) in self.list(request) },
                             streamer: HTTPStreamTransport { request, onData throws(HTTPClientError) in try self.watch(request, onData) })
        }

        private func list(_ request: HTTPRequest) -> HTTPResponse {
            guard request.url.hasSuffix(ClusterObjects.secretSyncsPath) else {
                return FakeKubernetes.json(200, ["items": [], "metadata": ["resourceVersion": "1"]])
            }
            let next: (items: [String], version: String) = lock.withLock {
                _listCount += 1
                return lists.count > 1 ? lists.removeFirst() : lists[0]
            }
            return HTTPResponse(status: 200, body: Array(#"{"metadata":{"resourceVersion":"\#(next.version)"},"items":[\#(next.items.joined(separator: ","))]}"#.utf8),
                                headers: [])
        }

        private func watch(_ request: HTTPRequest, _ onData: (UnsafeRawBufferPointer) -> Void) throws(HTTPClientError) -> Int {
            guard request.url.contains(ClusterObjects.secretSyncsPath) else {
                Thread.sleep(forTimeInterval: 0.05)
                return 200
            }
            let script: Watch? = lock.withLock {
                _watchQueries.append(String(request.url.split(separator: "?").last ?? ""))
                return watches.isEmpty ? nil : watches.removeFirst()
            }
            switch script {
            case .events(let lines, let status)?:
                for line in lines { Array((line + "\n").utf8).withUnsafeBytes { onData($0) } }
                return status
            case .unreachable?:
                throw HTTPClientError(kind: .couldNotConnect, message: "connection refused")
            case nil:
                Thread.sleep(forTimeInterval: 0.05)
                return 200
            }
        }
    }

    static func sync(_ name: String, rv: String, generation: Int = 1) -> String {
        #"{"apiVersion":"secret-sync.x-k8s.io/v1alpha1","kind":"SecretSync","metadata":{"name":"\#(name)","namespace":"ns","uid":"u-\#(name)","generation":\#(generation),"resourceVersion":"\#(rv)"},"spec":{"secretProviderClassName":"spc","secretObject":{"type":"Opaque","data":[{"sourcePath":"a","targetKey":"a"}]}}}"#
    }

    static func event(_ type: String, _ object: String) -> String { #"{"type":"\#(type)","object":\#(object)}"# }

    func waitUntil(_ condition: () -> Bool) async throws {
        _ = try await Poll.until(condition)
    }

    @Test func resumesFromTheLastResourceVersionAndListsAgainAfterGone() async throws {
        let server = ScriptedServer(
            lists: [([Self.sync("a", rv: "10")], "10"), ([Self.sync("b", rv: "30")], "30")],
            watches: [
                .events([Self.event("ADDED", Self.sync("b", rv: "11")), Self.event("MODIFIED", Self.sync("b", rv: "12", generation: 2))], status: 200),
                .events([Self.event("ERROR", #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old resource version: 12 (20)"}"#)], status: 200),
            ])
        let changes = Mutex<[String]>([])
        let source = ClusterSyncSource(kubernetes: { try server.client() }, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                       onChange: { reason in changes.withLock { $0.append(reason) } })
        source.watchOnThreads()
        defer { source.stop() }
        try await waitUntil { server.watchQueries.count >= 3 }
        let queries = server.watchQueries
        #expect(queries.count >= 3)
        #expect(queries.first?.hasSuffix("resourceVersion=10") == true, "the first watch starts at the list's resourceVersion")
        #expect(queries.dropFirst().first?.hasSuffix("resourceVersion=12") == true, "the next watch resumes after the last event")
        #expect(server.listCount == 2, "410 Gone: listed again")
        #expect(queries.dropFirst(2).first?.hasSuffix("resourceVersion=30") == true, "and watched from the new list")
        // b disappeared from the relist? No: a did; it counts as removed.
        #expect(source.snapshot.secretSyncs.map(\.name) == ["b"])
        #expect(source.drainRemoved().map(\.name) == ["a"])
        #expect(changes.withLock { $0 }.contains("secretsyncs added"))
    }

    @Test func reconnectsFromTheSameResourceVersionAfterTheAPIServerWentAway() async throws {
        let server = ScriptedServer(lists: [([Self.sync("a", rv: "10")], "10")],
                                    watches: [.events([Self.event("MODIFIED", Self.sync("a", rv: "15", generation: 2))], status: 200), .unreachable])
        let source = ClusterSyncSource(kubernetes: { try server.client() }, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                       onChange: { _ in })
        source.watchOnThreads()
        defer { source.stop() }
        try await waitUntil { server.watchQueries.count >= 3 }
        let queries = server.watchQueries
        #expect(queries.count >= 3)
        #expect(queries[1].hasSuffix("resourceVersion=15"))
        #expect(queries[2].hasSuffix("resourceVersion=15"), "after the failure: the same resourceVersion, no relist")
        #expect(server.listCount == 1)
    }

    @Test func watchErrorsMapToKubernetesErrors() throws {
        let client = KubernetesClient(kubeconfig: try Kubeconfig.parse(FakeKubernetes.kubeconfig, file: "k3s.yaml"),
                                      transport: HTTPTransport { _ throws(HTTPClientError) in FakeKubernetes.status(403, "Forbidden", "no") },
                                      streamer: HTTPStreamTransport { _, _ throws(HTTPClientError) in 500 })
        let watch = KubernetesWatch(client: client, path: ClusterObjects.secretSyncsPath)
        #expect(throws: KubernetesError.self) { try watch.list() }
        do {
            _ = try watch.watch(from: "1", timeoutSeconds: 1) { _ in }
            Issue.record("a 500 must throw")
        } catch {
            #expect(error.code == 500)
        }
        let timedOut = KubernetesClient(kubeconfig: try Kubeconfig.parse(FakeKubernetes.kubeconfig, file: "k3s.yaml"),
                                        transport: HTTPTransport { _ throws(HTTPClientError) in FakeKubernetes.status(404, "NotFound", "no") },
                                        streamer: HTTPStreamTransport { _, _ throws(HTTPClientError) in throw HTTPClientError(kind: .timedOut, message: "t") })
        let quiet = KubernetesWatch(client: timedOut, path: ClusterObjects.secretSyncsPath)
        #expect(try quiet.list() == nil, "404: the CRD is not installed")
        #expect(try quiet.watch(from: "1", timeoutSeconds: 1) { _ in } == .ended, "a watch that outlived its window ends normally")
    }

    static func lease(_ name: String, rv: String, text: String? = nil) -> String {
        let annotations = text.map { #","annotations":{"aios.microsoft.com/definition":"\#($0)"}"# } ?? ""
        return #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"\#(name)","namespace":"kube-system","resourceVersion":"\#(rv)","labels":{"a":"b"}\#(annotations)},"spec":{"holderIdentity":"n1"}}"#
    }

    /// The Lease list and watch on the wire: the list's resourceVersion from its first page, the watch's query
    /// (the label selector kept, the watch parameters added with `&`), each event type mapped, lines split
    /// across chunks.
    @Test func leasesAreListedAndWatchedWithTheirSelector() throws {
        let urls = Mutex<[String]>([])
        let page = #"{"kind":"LeaseList","metadata":{"resourceVersion":"41"},"items":[\#(Self.lease("aios-definition-db", rv: "40", text: "one"))]}"#
        let events = [
            Self.event("ADDED", Self.lease("aios-definition-queue", rv: "42", text: "two")),
            Self.event("MODIFIED", Self.lease("aios-definition-db", rv: "43", text: "one, edited")),
            Self.event("DELETED", Self.lease("aios-definition-queue", rv: "44")),
            Self.event("BOOKMARK", #"{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"resourceVersion":"50"}}"#),
            Self.event("ERROR", #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old resource version"}"#),
        ]
        let client = KubernetesClient(
            kubeconfig: try Kubeconfig.parse(FakeKubernetes.kubeconfig, file: "k3s.yaml"),
            transport: HTTPTransport { request throws(HTTPClientError) in
                urls.withLock { $0.append(request.url) }
                return HTTPResponse(status: 200, body: Array(page.utf8), headers: [])
            },
            streamer: HTTPStreamTransport { request, onData throws(HTTPClientError) in
                urls.withLock { $0.append(request.url) }
                // In pieces of 7 bytes: lines are put together across chunks.
                let stream = Array(events.map { $0 + "\n" }.joined().utf8)
                for start in stride(from: 0, to: stream.count, by: 7) {
                    Array(stream[start..<min(start + 7, stream.count)]).withUnsafeBytes { onData($0) }
                }
                return 200
            })
        let listed = try client.listLeasesForWatch(namespace: "kube-system", labelSelector: "a=b")
        #expect(listed.resourceVersion == "41")
        #expect(listed.leases["aios-definition-db"]?.annotations["aios.microsoft.com/definition"] == "one")
        var changes: [LeaseChange] = []
        let outcome = try client.watchLeases(namespace: "kube-system", labelSelector: "a=b", from: "41", timeoutSeconds: 60) { changes.append($0) }
        #expect(outcome == .expired, "the 410 ERROR event: list again")
        #expect(changes.map(\.name) == ["aios-definition-queue", "aios-definition-db", "aios-definition-queue", ""])
        #expect(changes.map(\.resourceVersion) == ["42", "43", "44", "50"])
        if case .put(let record) = changes[1].kind { #expect(record.annotations["aios.microsoft.com/definition"] == "one, edited") } else { Issue.record("MODIFIED is a put") }
        #expect(changes[2].kind == .deleted && changes[3].kind == .progress)
        let watchURL = try #require(urls.withLock { $0 }.last)
        #expect(watchURL.hasSuffix("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=a%3Db&watch=1&allowWatchBookmarks=true&timeoutSeconds=60&resourceVersion=41"))
    }
}

/// The Kubernetes client's answers to each status the API server may send.
@Suite struct KubernetesClientErrorTests {
    func client(_ answer: @escaping @Sendable (HTTPRequest) throws(HTTPClientError) -> HTTPResponse) throws -> KubernetesClient {
        KubernetesClient(kubeconfig: try Kubeconfig.parse(FakeKubernetes.kubeconfig, file: "k3s.yaml"), transport: HTTPTransport(send: answer),
                         streamer: HTTPStreamTransport { _, _ throws(HTTPClientError) in 200 })
    }

    @Test func statusReasonAndMessageAreKept() throws {
        let k = try client { _ throws(HTTPClientError) in FakeKubernetes.status(403, "Forbidden", "secrets is forbidden: User \"x\" cannot list") }
        do {
            _ = try k.listSecrets(labelSelector: "a=b")
            Issue.record("a 403 must throw")
        } catch {
            #expect(error.code == 403 && error.reason == "Forbidden")
            #expect(error.description.contains("cannot list Secrets") && error.description.contains("User \"x\" cannot list"))
        }
    }

    @Test func createOfAnExistingNameIsNotAnErrorButNil() throws {
        let k = try client { _ throws(HTTPClientError) in FakeKubernetes.status(409, "AlreadyExists", "exists") }
        #expect(try k.createSecret(namespace: "n", name: "s", type: "Opaque", labels: [:], annotations: [:], data: [:]) == nil)
    }

    @Test func missingSecretIsNilAndOtherFailuresThrow() throws {
        let missing = try client { _ throws(HTTPClientError) in FakeKubernetes.status(404, "NotFound", "not found") }
        #expect(try missing.getSecret(namespace: "n", name: "s") == nil)
        #expect(try missing.getSecretContent(namespace: "n", name: "s") == nil)
        try missing.deleteSecret(namespace: "n", name: "s", uid: "u")  // already gone: done
        let conflict = try client { _ throws(HTTPClientError) in FakeKubernetes.status(409, "Conflict", "Precondition failed: UID") }
        #expect(throws: KubernetesError.self) { try conflict.deleteSecret(namespace: "n", name: "s", uid: "u") }
        let garbage = try client { _ throws(HTTPClientError) in HTTPResponse(status: 200, body: Array("<html>".utf8), headers: []) }
        do {
            _ = try garbage.listSecrets(labelSelector: "a=b")
            Issue.record("a non-list must throw")
        } catch {
            #expect(error.reason == "BadResponse")
        }
        let unreachable = try client { _ throws(HTTPClientError) in throw HTTPClientError(kind: .couldNotConnect, message: "refused") }
        do {
            _ = try unreachable.getSecret(namespace: "n", name: "s")
            Issue.record("no answer must throw")
        } catch {
            #expect(error.code == 0 && error.reason == "Unreachable")
        }
    }

    /// The per-cycle check of owned Secrets: metadata only (no Secret data on the wire), in pages of 500.
    @Test func listsSecretsMetadataOnlyInPages() throws {
        let fake = FakeKubernetes()
        let k = try fake.client()
        for i in 0..<1_201 {
            _ = try k.createSecret(namespace: "n", name: String(format: "s-%04d", i), type: "Opaque", labels: ["a": "b"], annotations: [:],
                                   data: ["k": Array("VALUE-\(i)".utf8)])
        }
        _ = try k.createSecret(namespace: "n", name: "other", type: "Opaque", labels: ["a": "c"], annotations: [:], data: [:])
        fake.resetRequests()
        let answers = Mutex<[String]>([])
        let recording = try KubernetesClient(kubeconfig: Kubeconfig.parse(FakeKubernetes.kubeconfig, file: "k3s.yaml"),
                                             transport: HTTPTransport { request throws(HTTPClientError) in
                                                 let response = try fake.transport.send(request)
                                                 answers.withLock { $0.append(String(decoding: response.body, as: UTF8.self)) }
                                                 #expect(request.headers.contains { $0.name == "Accept" && $0.value.hasPrefix("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1") })
                                                 #expect(request.url.contains("limit=500"))
                                                 return response
                                             }, streamer: HTTPStreamTransport { _, _ throws(HTTPClientError) in 200 })
        let listed = try recording.listSecrets(labelSelector: "a=b")
        #expect(listed.count == 1_201 && Set(listed.map(\.name)).count == 1_201 && !listed.contains { $0.name == "other" })
        #expect(answers.withLock { $0.count } == 3, "1,201 Secrets in pages of 500")
        #expect(!answers.withLock { $0.contains { $0.contains("\"data\"") || $0.contains("\"type\"") } }, "no Secret data on the wire")
        #expect(listed.allSatisfy { $0.type == nil && !$0.resourceVersion.isEmpty })
    }

    @Test func writesReturnTheNewResourceVersion() throws {
        let fake = FakeKubernetes()
        let k = try fake.client()
        let created = try #require(try k.createSecret(namespace: "n", name: "s", type: "Opaque", labels: ["a": "b"], annotations: [:], data: ["k": [1]]))
        #expect(try k.listSecrets(labelSelector: "a=b").first?.resourceVersion == created)
        let applied = try k.applySecret(namespace: "n", name: "s", type: "Opaque", labels: ["a": "b"], annotations: [:], data: ["k": [2]])
        #expect(applied != created && applied?.isEmpty == false)
        #expect(try k.getSecretContent(namespace: "n", name: "s")?.data == ["k": [2]])
    }
}

extension ClusterSyncSource {
    /// Each kind's watch loop on a thread of its own until `stop()` (aiosd runs them in ClusterWatchService).
    func watchOnThreads() {
        for kind in Kind.allCases { Thread { self.watch(kind) }.start() }
    }
}

@testable import AIOSCore
import AIOSHTTP
import Foundation
import Testing

/// Lease lists as the API server pages them (`limit`/`continue`), decoded field by field: one published definition is
/// one Lease, so a cluster with 10,000 definitions answers in pages.
@Suite struct LeaseListTests {
    static func lease(_ name: String, holder: Any, renew: String = "2026-11-30T10:00:00.123456Z") -> [String: Any] {
        ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": ["name": name, "namespace": "kube-system", "resourceVersion": "7\(name.count)",
                      "labels": ["app.kubernetes.io/managed-by": "aiosd"], "annotations": ["aios.microsoft.com/definition": "text of \(name)"],
                      "managedFields": [["manager": "aiosd", "operation": "Update", "fieldsV1": ["f:spec": [:]]]]],
         "spec": ["holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": renew, "leaseTransitions": 2]]
    }

    @Test func everyPageIsReadAndEachFieldDecoded() throws {
        let api = FakeKubernetes()
        let queries = Queries()
        api.fault = { request in
            let url = URLComponents(string: request.url)!
            queries.append(url.percentEncodedQuery ?? "")
            let page = url.queryItems?.first { $0.name == "continue" }?.value
            if page == nil {
                return FakeKubernetes.json(200, ["kind": "LeaseList", "metadata": ["continue": "next+page/1"],
                                                 "items": [Self.lease("aios-definition-a", holder: "node-1"), Self.lease("aios-definition-b", holder: "node-2")]])
            }
            #expect(page == "next+page/1")
            // A field of the wrong type reads as absent; the rest of the Lease and the list stay usable.
            return FakeKubernetes.json(200, ["kind": "LeaseList", "metadata": ["continue": ""],
                                             "items": [Self.lease("aios-definition-c", holder: 42, renew: "not a time")]])
        }
        let leases = try api.client().listLeases(namespace: "kube-system", labelSelector: "app.kubernetes.io/managed-by=aiosd")
        #expect(leases.keys.sorted() == ["aios-definition-a", "aios-definition-b", "aios-definition-c"])
        let a = try #require(leases["aios-definition-a"])
        #expect(a.holderIdentity == "node-1" && a.leaseDurationSeconds == 15 && a.leaseTransitions == 2 && a.resourceVersion == "717")
        #expect(a.annotations["aios.microsoft.com/definition"] == "text of aios-definition-a" && a.labels["app.kubernetes.io/managed-by"] == "aiosd")
        #expect(a.renewTime.map { abs($0.timeIntervalSince1970 - 1_796_032_800.123456) < 0.000_01 } == true)
        let c = try #require(leases["aios-definition-c"])
        #expect(c.holderIdentity == nil && c.renewTime == nil && c.leaseDurationSeconds == 15)
        let asked = queries.all
        #expect(asked.count == 2 && asked.allSatisfy { $0.contains("limit=\(KubernetesClient.listPageSize)") })
        #expect(asked[1].contains("continue=next%2Bpage%2F1"), "the continue token is sent back escaped: \(asked[1])")
    }

    final class Queries: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func append(_ query: String) { lock.withLock { items.append(query) } }
        var all: [String] { lock.withLock { items } }
    }

    @Test func aListThatIsNoLeaseListIsRefused() throws {
        let api = FakeKubernetes()
        api.fault = { _ in HTTPResponse(status: 200, body: Array(#"{"items": "none"}"#.utf8), headers: []) }
        #expect { _ = try api.client().listLeases(namespace: "kube-system", labelSelector: "a=b") } throws: {
            ($0 as? KubernetesError)?.message.contains("is not a LeaseList") == true
        }
    }
}

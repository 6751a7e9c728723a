@testable import AIOSCore
import Foundation
import Testing

/// Leader election on a Lease with client-go's semantics, over an in-memory Lease store and a hand-moved clock:
/// one leader, renewal, a lost race, the fence at the renew deadline, takeover after expiry, release.
@Suite struct LeaderElectorTests {
    let store = FakeLeaseStore()
    let clock = FakeClock()
    let lease = "\(LeaderElectionSettings.namespace)/\(LeaderElectionSettings.leaseName)"

    func node(_ name: String) -> (elector: LeaderElector, connection: FakeLeaseStore.Connection) {
        let connection = FakeLeaseStore.Connection(store, who: name)
        let clock = self.clock
        return (LeaderElector(identity: name, settings: LeaderElectionSettings(), client: connection, now: { clock.now }), connection)
    }

    @Test func theFirstCandidateCreatesTheLeaseAndLeadsOthersFollow() throws {
        let (a, _) = node("a"), (b, _) = node("b")
        #expect(a.step() == [.becameLeader])
        #expect(a.mayWrite)
        #expect(b.step() == [.newLeader("a")])
        #expect(!b.mayWrite && !b.view.leading && b.view.leader == "a")
        let record = try #require(store.lease(lease))
        #expect(record.holderIdentity == "a" && record.leaseDurationSeconds == 15 && record.leaseTransitions == 0)
        #expect(record.acquireTime == clock.now && record.renewTime == clock.now)
    }

    @Test func aRenewalMovesRenewTimeAndKeepsAcquireTime() throws {
        let (a, _) = node("a")
        a.step()
        let acquired = clock.now
        clock.advance(2)
        #expect(a.step() == [])
        let record = try #require(store.lease(lease))
        #expect(record.acquireTime == acquired && record.renewTime == clock.now && record.leaseTransitions == 0)
        #expect(a.view.leaderSince == acquired)
    }

    @Test func ofTwoCandidatesRacingForALapsedLeaseTheOneWhoseUpdateCarriesAStaleVersionLoses() throws {
        let (a, aLink) = node("a"), (b, _) = node("b"), (c, cLink) = node("c")
        a.step()
        b.step()
        c.step()
        aLink.partitioned = true
        clock.advance(16)  // a's claim has lapsed for b and c
        // c reads the Lease; before c writes, b takes it: c's update carries the old resourceVersion.
        cLink.afterNextGet { b.step() }
        #expect(c.step() == [])
        #expect(!c.mayWrite && b.mayWrite)
        #expect(c.step() == [.newLeader("b")], "c learns of the new leader at its next attempt")
        #expect(store.lease(lease)?.holderIdentity == "b" && store.lease(lease)?.leaseTransitions == 1)
        #expect(store.writes.filter { $0.hasPrefix("c ") }.isEmpty, "c wrote nothing")
    }

    @Test func aLeaderThatCannotRenewStopsWritingAtTheRenewDeadlineBeforeAnyoneElseMayTakeOver() throws {
        let (a, aLink) = node("a"), (b, _) = node("b")
        a.step()
        b.step()
        aLink.partitioned = true
        for _ in 0..<4 {
            clock.advance(2)
            a.step()  // fails: no API server
            #expect(a.mayWrite, "within the renew deadline the leader still writes")
        }
        clock.advance(1.5)  // 9.5 s after the last renewal
        #expect(a.mayWrite)
        clock.advance(0.5)  // 10 s: the fence closes even before the next step
        #expect(!a.mayWrite)
        #expect(a.step() == [.stoppedLeading(reason: "not renewed within the renew deadline (10s)")])
        // b saw a's last renewal at t=0: a's claim lasts to t=15 for b.
        #expect(b.step() == [] && !b.mayWrite)
        clock.advance(4.5)  // t = 14.5
        b.step()
        #expect(!b.mayWrite)
        clock.advance(1)  // t = 15.5
        #expect(b.step() == [.becameLeader])
        #expect(b.mayWrite && store.lease(lease)?.leaseTransitions == 1)
        // Back on the network, a sees b hold the Lease and stays a follower.
        aLink.partitioned = false
        clock.advance(2)
        #expect(a.step() == [.newLeader("b")])
        #expect(!a.mayWrite)
    }

    @Test func aFollowerTakesOverOnlyAfterTheLeaseDurationByItsOwnClock() throws {
        let (a, aLink) = node("a"), (b, _) = node("b")
        a.step()
        aLink.partitioned = true
        clock.advance(10)
        // b first sees the Lease now: the claim lasts 15 s from b's observation, whatever renewTime says.
        b.step()
        clock.advance(14)
        b.step()
        #expect(!b.view.leading)
        clock.advance(1.5)
        #expect(b.step() == [.becameLeader])
    }

    @Test func aReleasedLeaseIsTakenAtTheNextAttempt() throws {
        let (a, _) = node("a"), (b, _) = node("b")
        a.step()
        b.step()
        a.release()
        #expect(!a.mayWrite)
        #expect(store.lease(lease)?.holderIdentity == "")
        clock.advance(2)
        #expect(b.step() == [.becameLeader])
        #expect(store.lease(lease)?.leaseTransitions == 1)
    }

    @Test func aRestartedLeaderWithTheSameIdentityKeepsTheLease() throws {
        let (a, _) = node("a")
        a.step()
        let acquired = clock.now
        clock.advance(3)
        let (again, _) = node("a")
        #expect(again.step() == [.becameLeader])
        #expect(store.lease(lease)?.acquireTime == acquired && store.lease(lease)?.leaseTransitions == 0)
    }

    @Test func settingsAreCheckedAsClientGoChecksThem() {
        var settings = LeaderElectionSettings()
        #expect(settings.problem == nil)
        settings.renewDeadline = .seconds(15)
        #expect(settings.problem?.contains("leaseDuration must be more than renewDeadline") == true)
        settings = LeaderElectionSettings()
        settings.retryPeriod = .seconds(9)
        #expect(settings.problem?.contains("renewDeadline must be more than 1.2") == true)
    }

    @Test func theCandidacyFollowsTheNodeRoleAndTheMode() {
        #expect(SyncCandidacy.decide(mode: .auto, role: .server) == .candidate)
        #expect(SyncCandidacy.decide(mode: .auto, role: .agent) != .candidate)
        #expect(SyncCandidacy.decide(mode: .on, role: .agent) == .candidate)
        #expect(SyncCandidacy.decide(mode: .off, role: .server) == .alone)
        let agent = NodeRole.detect(kubeconfig: "/nonexistent/k3s.yaml", exists: { $0 == "/etc/systemd/system/k3s-agent.service" })
        #expect(agent == .agent)
        #expect(NodeRole.detect(kubeconfig: "/k.yaml", exists: { $0 == "/k.yaml" }) == .server)
        #expect(NodeRole.detect(kubeconfig: "/k.yaml", exists: { _ in false }) == NodeRole.none)
    }

    @Test func heartbeatsShowEveryNodeAndWhetherItIsReady() throws {
        let link = FakeLeaseStore.Connection(store, who: "s1")
        let beat = NodeHeartbeat(name: "s1", role: .server, version: "1.2.3", syncRole: "leader", candidate: true,
                                 issuerConfigured: "https://issuer.example/", issuerServed: "https://issuer.example/", issuerRunning: nil)
        try beat.publish(to: link, at: clock.now)
        try NodeHeartbeat(name: "w1", role: .agent, version: "1.2.3", syncRole: "not a candidate", candidate: false)
            .publish(to: link, at: clock.now.addingTimeInterval(-60))
        clock.advance(10)
        try beat.publish(to: link, at: clock.now)  // a renewal over the existing Lease
        let nodes = NodeHeartbeat.nodes(from: try link.listLeases(namespace: "kube-system", labelSelector: NodeHeartbeat.selector), now: clock.now)
        #expect(nodes.map(\.name) == ["s1", "w1"])
        #expect(nodes[0].ready && nodes[0].role == .server && nodes[0].issuerServed == "https://issuer.example/" && nodes[0].renewedAt == clock.now)
        #expect(!nodes[1].ready && nodes[1].role == .agent && !nodes[1].candidate)
    }
}

@Suite struct LeaderElectionConfigurationTests {
    @Test func theElectionSettingsAreReadAndCheckedTogether() throws {
        let loaded = try ConfigurationLoader().parse(
            "cluster:\n  nodeName: server-2\n  leaderElection:\n    mode: on\n    leaseDuration: 30s\n    renewDeadline: 20s\n    retryPeriod: 4s\n",
            file: "aiosd.yaml")
        #expect(loaded.cluster.nodeName == "server-2" && loaded.cluster.leaderElection.mode == .on)
        #expect(loaded.cluster.leaderElection.leaseDuration == .seconds(30) && loaded.cluster.leaderElection.retryPeriod == .seconds(4))
        for bad in ["cluster:\n  leaderElection:\n    leaseDuration: 5s\n",
                    "cluster:\n  leaderElection:\n    mode: sometimes\n",
                    "cluster:\n  leaderElection:\n    retryPeriod: 500ms\n",
                    "cluster:\n  nodeName: Server_2\n"] {
            #expect(throws: ConfigurationError.self) { try ConfigurationLoader().parse(bad, file: "aiosd.yaml") }
        }
    }

    @Test func aPublishPlanCreatesUpdatesWithdrawsOnlyItsOwnAndReportsConflicts() {
        let published = [
            "mine": PublishedDefinitions.Copy(name: "mine", text: "old", publisher: "a", version: "7"),
            "gone": PublishedDefinitions.Copy(name: "gone", text: "x", publisher: "a", version: "8"),
            "theirs": PublishedDefinitions.Copy(name: "theirs", text: "t", publisher: "b", version: "9"),
            "same": PublishedDefinitions.Copy(name: "same", text: "s", publisher: "b", version: "10"),
        ]
        let plan = PublishedDefinitions.plan(node: "a", files: ["mine": "new", "theirs": "other", "same": "s", "fresh": "f"], published: published)
        #expect(plan == [.create(name: "fresh", text: "f"), .update(name: "mine", text: "new", version: "7"), .conflict(name: "theirs", publisher: "b"),
                         .delete(name: "gone")])
    }
}

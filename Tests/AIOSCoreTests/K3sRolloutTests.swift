@testable import AIOSCore
import Foundation
import Testing

/// The rolling K3s change across servers: every server runs the real single-host workflow on its own in-memory
/// K3s, and coordinates only through a fake cluster (the record, the Nodes, the restart Lease).
@Suite struct K3sRolloutTests {
    let arc = "https://eastus.oic.prod-arc.azure.com/tenant/uuid/"

    struct Cluster {
        let cluster: FakeRolloutCluster
        let tracker: ChangeTracker
        let servers: [FakeServer]

        init(_ names: [String]) {
            let cluster = FakeRolloutCluster(servers: names), tracker = ChangeTracker()
            self.cluster = cluster
            self.tracker = tracker
            servers = names.map { FakeServer($0, cluster: cluster, tracker: tracker) }
        }

        subscript(_ name: String) -> FakeServer { servers.first { $0.name == name }! }

        /// Every aiosd polls once per round, in an order that is not the rollout's, until the rollout ends.
        @discardableResult
        func run(rounds: Int = 20, skipping dead: Set<String> = []) throws -> [K3sRolloutAgent.Outcome] {
            var outcomes: [K3sRolloutAgent.Outcome] = []
            for _ in 0..<rounds {
                for server in servers.reversed() where !dead.contains(server.name) {
                    outcomes.append(try server.agent().step())
                }
                if cluster.rollout?.state != .running { break }
            }
            return outcomes
        }
    }

    func enable(_ issuer: String, as requester: Privilege = .operator) -> K3sDesiredChange {
        K3sDesiredChange(kind: .enableWorkloadIdentity, issuer: issuer, requester: requester)
    }

    func start(_ world: Cluster, _ change: K3sDesiredChange, by node: String = "server-2") throws -> K3sRollout {
        try K3sRolloutRequest.start(change, requestedBy: node, store: world.cluster, directory: world.cluster, now: world.cluster.now)
    }

    @Test func serversChangeOneAtATimeInNameOrderAndEveryOneServesTheNewIssuer() throws {
        let world = Cluster(["server-3", "server-1", "server-2"])
        let rollout = try start(world, enable(arc))
        #expect(rollout.generation == 1 && rollout.servers.map(\.name) == ["server-1", "server-2", "server-3"])
        #expect(rollout.servers.allSatisfy { $0.state == .pending })
        try world.run()
        let done = try #require(world.cluster.rollout)
        #expect(done.state == .succeeded && done.finishedAt != nil)
        #expect(done.servers.allSatisfy { $0.state == .done && $0.changed == true && $0.startedAt != nil && $0.finishedAt != nil })
        #expect(world.tracker.order == ["server-1", "server-2", "server-3"])
        #expect(world.tracker.mostAtOnce == 1)
        #expect(world.tracker.begunWithOtherNotReady.isEmpty)
        for server in world.servers {
            #expect(try server.host.servedIssuer() == arc)
            #expect(server.host.restarts == 1)
        }
        #expect(world.cluster.holder == nil)  // the restart lock is given back
        #expect(world.cluster.acquisitions == ["server-1", "server-2", "server-3"])
    }

    @Test func othersWaitWhileOneServerApplies() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        _ = try start(world, enable(arc))
        var seenDuring: [K3sRolloutAgent.Outcome] = []
        world["server-1"].during = {
            seenDuring.append(try! world["server-2"].agent().step())
            seenDuring.append(try! world["server-3"].agent().step())
        }
        try world.run()
        #expect(seenDuring == [.waited("server-1 is applying the change"), .waited("server-1 is applying the change")])
        #expect(world.tracker.mostAtOnce == 1)
    }

    @Test func noServerChangesWhileAnotherServerIsNotReady() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        _ = try start(world, enable(arc))
        world.cluster.setReady("server-3", false)
        let outcomes = try world.run(rounds: 3)
        #expect(outcomes.allSatisfy { $0 == .waited("server-3 is not Ready") || $0 == .waited("server-1 goes first") }, "\(outcomes)")
        #expect(world.servers.allSatisfy { $0.applied == 0 && $0.host.restarts == 0 })
        // Between two servers' turns too: server-1 is done, then server-3 goes down.
        world.cluster.setReady("server-3", true)
        world["server-1"].during = { world.cluster.setReady("server-3", false) }
        try world.run(rounds: 3)
        #expect(world.cluster.rollout?.progress(of: "server-1")?.state == .done)
        #expect(world["server-2"].applied == 0 && world["server-3"].applied == 0)
        world.cluster.setReady("server-3", true)
        try world.run()
        #expect(world.cluster.rollout?.state == .succeeded)
        #expect(world.tracker.begunWithOtherNotReady.isEmpty)
    }

    @Test func aServerMissingFromTheNodeListHoldsTheRolloutBack() throws {
        let world = Cluster(["server-1", "server-2"])
        var rollout = try start(world, enable(arc))
        rollout.servers.append(K3sServerProgress(name: "server-9"))
        world.cluster.put(rollout)
        #expect(try world["server-1"].agent().step() == .waited("server-9 is not in the cluster's Node list"))
    }

    @Test func theRolloutStopsAtTheFirstFailureAndTheFailedServerRollsBack() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        // server-2's K3s refuses to start with the new configuration (e.g. a bad drop-in of its own).
        world["server-2"].host.rejectedText = "eastus"
        _ = try start(world, enable(arc))
        try world.run()
        let failed = try #require(world.cluster.rollout)
        #expect(failed.state == .failed && failed.finishedAt != nil)
        #expect(failed.servers.map(\.state) == [.done, .rolledBack, .pending])
        #expect(failed.progress(of: "server-2")?.message?.contains("rolled back") == true)
        #expect(world["server-2"].host.files[FakeK3sHost.dropIn] == nil)  // its previous (absent) drop-in is back
        #expect(try world["server-2"].host.servedIssuer() == FakeK3sHost.defaultIssuer)
        #expect(world["server-3"].applied == 0 && world["server-3"].host.restarts == 0)
        #expect(world.cluster.holder == nil)
        // Later polls change nothing.
        #expect(try world["server-3"].agent().step() == .idle("no rollout is running"))
    }

    @Test func aFailedRolloutIsRecordedFailedByWhicheverServerSeesItFirst() throws {
        let world = Cluster(["server-1", "server-2"])
        var rollout = try start(world, enable(arc))
        rollout.servers[0].state = .failed  // its aiosd died between recording its result and the rollout's end
        world.cluster.put(rollout)
        #expect(try world["server-2"].agent().step() == .finished(.failed))
        #expect(world["server-2"].applied == 0)
    }

    @Test func theRolloutGoesOnWhenTheNodeThatWasAskedDies() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        _ = try start(world, enable(arc), by: "server-3")
        // server-3's aiosd dies right after recording the request; the others carry the rollout to server-3's turn.
        try world.run(rounds: 3, skipping: ["server-3"])
        let halfway = try #require(world.cluster.rollout)
        #expect(halfway.servers.map(\.state) == [.done, .done, .pending] && halfway.state == .running)
        // Back up: it does its part and ends the rollout.
        try world.run()
        #expect(world.cluster.rollout?.state == .succeeded)
    }

    @Test func aServerThatDiedWhileApplyingCarriesOnWhenItsAiosdIsBack() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        var rollout = try start(world, enable(arc))
        // server-1 recorded "applying" and took the lock, then its aiosd was killed (the single-host recovery
        // at its next start restores the previous drop-in); its Lease has not expired yet.
        rollout.servers[0].state = .applying
        rollout.servers[0].startedAt = world.cluster.now
        world.cluster.put(rollout)
        world.cluster.takeLease("server-1", for: 600)
        #expect(try world["server-2"].agent().step() == .waited("server-1 is applying the change"))
        #expect(try world["server-3"].agent().step() == .waited("server-1 is applying the change"))
        let startedAt = rollout.servers[0].startedAt
        try world.run()
        let done = try #require(world.cluster.rollout)
        #expect(done.state == .succeeded)
        #expect(done.progress(of: "server-1")?.startedAt == startedAt)  // the same attempt, carried on
        #expect(world.tracker.order == ["server-1", "server-2", "server-3"])
    }

    @Test func theRestartLockKeepsOthersOutUntilItExpires() throws {
        let world = Cluster(["server-1", "server-2"])
        _ = try start(world, enable(arc))
        // A server of an earlier rollout, or one that died holding it, has the lock.
        world.cluster.takeLease("server-2", for: 60)
        #expect(try world["server-1"].agent().step() == .waited("another server holds the restart lock"))
        #expect(world["server-1"].applied == 0)
        world.cluster.advance(61)
        try world.run()
        #expect(world.cluster.rollout?.state == .succeeded)
    }

    @Test func abortStopsTheRolloutTheServerApplyingFinishesAndNoOtherStarts() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        _ = try start(world, enable(arc))
        // Aborted (on server-3) while server-1 changes its K3s: server-1 finishes its change and records it.
        world["server-1"].during = {
            let aborted = try? K3sRolloutAbort.abort(by: "server-3", store: world.cluster, now: world.cluster.now)
            #expect(aborted?.state == .aborted && aborted?.abortedBy == "server-3")
        }
        try world.run()
        let rollout = try #require(world.cluster.rollout)
        #expect(rollout.state == .aborted && rollout.abortedBy == "server-3")
        #expect(rollout.progress(of: "server-1")?.state == .done, "the server applying finished its change")
        #expect(rollout.servers.dropFirst().allSatisfy { $0.state == .pending }, "no further server started its turn")
        #expect(world.tracker.order == ["server-1"] && world["server-2"].applied == 0 && world["server-3"].applied == 0)
        #expect(world.cluster.holder == nil, "the lock is released")
        #expect(try world["server-2"].agent().step() == .idle("no rollout is running"))
        // Nothing left to abort: a clear refusal, the record unchanged.
        #expect(throws: K3sRolloutError.self) { try K3sRolloutAbort.abort(by: "server-2", store: world.cluster, now: world.cluster.now) }
        #expect(world.cluster.rollout == rollout)
        // A new request may start after an abort.
        #expect(try start(world, enable(arc)).generation == 2)
    }

    @Test func aServerFailingAfterAnAbortRollsBackAndTheRolloutStaysAborted() throws {
        let world = Cluster(["server-1", "server-2"])
        _ = try start(world, enable(arc))
        world["server-1"].host.rejectedText = "eastus"  // its K3s refuses the new configuration
        world["server-1"].during = { _ = try? K3sRolloutAbort.abort(by: "server-2", store: world.cluster, now: world.cluster.now) }
        try world.run()
        let rollout = try #require(world.cluster.rollout)
        #expect(rollout.state == .aborted && rollout.progress(of: "server-1")?.state == .rolledBack)
        #expect(rollout.progress(of: "server-2")?.state == .pending)
    }

    @Test func theRestartLockIsRenewedWhileALongChangeRuns() throws {
        let world = Cluster(["server-1", "server-2"])
        _ = try start(world, enable(arc))
        let agent1 = world["server-1"].agent(), agent2 = world["server-2"].agent()
        #expect(agent1.lockRenewInterval == .seconds(200))
        // server-1's change takes longer than the lock's duration (600 s); renewed every third of it, the lock
        // stays server-1's all along and server-2 never gets it.
        world["server-1"].during = {
            for _ in 0..<4 {
                world.cluster.advance(200)
                #expect((try? agent1.renewLock()) == true)
                #expect(world.cluster.holder == "server-1")
                #expect((try? world.cluster.acquire(holder: "server-2", for: .seconds(600))) == false)
            }
        }
        #expect(try agent2.renewLock() == false, "renewing never takes a lock this server does not hold")
        #expect(world.cluster.holder == nil)
        try world.run()
        #expect(world.cluster.rollout?.state == .succeeded)
        #expect(world.tracker.mostAtOnce == 1)
    }

    @Test func aServerThatAlreadyHasTheChangeIsDoneWithoutARestart() throws {
        let world = Cluster(["server-1", "server-2"])
        _ = try start(world, enable(arc))
        try world.run()
        // The same request again: every server says nothing to do, nobody restarts.
        let again = try start(world, enable(arc))
        #expect(again.generation == 2)
        try world.run()
        let done = try #require(world.cluster.rollout)
        #expect(done.state == .succeeded && done.servers.allSatisfy { $0.state == .done && $0.changed == false })
        #expect(world.servers.allSatisfy { $0.host.restarts == 1 })
        // A finished rollout is left alone.
        #expect(try world["server-1"].agent().step() == .idle("no rollout is running"))
    }

    @Test func aServerRefusesWhatItsOwnPolicyRefusesAndTheRolloutStops() throws {
        let world = Cluster(["server-1", "server-2", "server-3"])
        let file = "/etc/rancher/k3s/audit-policy.yaml"
        let change = K3sDesiredChange(kind: .editAPIServerArguments, set: ["audit-policy-file=\(file)"], requester: .root)
        _ = try start(world, change)
        for _ in 0..<4 {
            for server in world.servers {
                // On server-2 the file is writable by everyone: its policy refuses the flag for anyone, root included.
                _ = try server.agent(files: server.name == "server-2" ? .worldWritable(file) : .trusting).step()
            }
        }
        let stopped = try #require(world.cluster.rollout)
        #expect(stopped.state == .failed)
        #expect(stopped.servers.map(\.state) == [.done, .refused, .pending])
        #expect(stopped.progress(of: "server-2")?.message?.contains("writable by group or others") == true)
        #expect(world["server-2"].applied == 0 && world["server-2"].host.restarts == 0)
        #expect(world["server-3"].applied == 0)
    }

    @Test func aRecordClaimingALevelTheChangeNeedsMoreThanIsRefusedEverywhere() throws {
        let world = Cluster(["server-1", "server-2"])
        // Written by hand into the cluster: an operator may not set the issuer directly.
        let change = K3sDesiredChange(kind: .editAPIServerArguments, set: ["service-account-issuer=https://evil.example/"], requester: .operator)
        world.cluster.put(K3sRollout(generation: 1, change: change, requestedBy: "kubectl", requestedAt: world.cluster.now, servers: ["server-1", "server-2"]))
        try world.run()
        let stopped = try #require(world.cluster.rollout)
        #expect(stopped.servers.map(\.state) == [.refused, .pending] && stopped.state == .failed)
        #expect(stopped.progress(of: "server-1")?.message?.contains("issuer-through-workload-identity") == true)
        #expect(world.servers.allSatisfy { $0.applied == 0 })

        var unknown = K3sDesiredChange(kind: .disableWorkloadIdentity, requester: .root)
        unknown.requester = "admin"
        #expect(throws: PolicyRefusal.self) { try unknown.checkPolicy(files: .trusting) }
    }

    @Test func aServerRefusedByItsOwnWorkflowStopsTheRollout() throws {
        let world = Cluster(["server-1", "server-2"])
        // server-1 is really a K3s agent node that was labelled as a server.
        world["server-1"].host.units = ["k3s-agent.service": K3sUnitDescription(name: "k3s-agent.service", commandLine: ["/usr/local/bin/k3s", "agent"])]
        _ = try start(world, enable(arc))
        try world.run()
        let stopped = try #require(world.cluster.rollout)
        #expect(stopped.servers.map(\.state) == [.refused, .pending])
        #expect(stopped.progress(of: "server-1")?.message?.contains("agent (worker) node") == true)
    }

    @Test func aNewRequestIsRefusedWhileARolloutRunsAndNeedsServers() throws {
        let world = Cluster(["server-1", "server-2"])
        _ = try start(world, enable(arc))
        #expect(throws: K3sRolloutError.self) { try start(world, K3sDesiredChange(kind: .disableWorkloadIdentity, requester: .operator)) }
        #expect(world.cluster.rollout?.generation == 1)

        let empty = Cluster([])
        #expect(throws: K3sRolloutError.self) { try start(empty, enable(arc)) }
        #expect(empty.cluster.rollout == nil)
    }

    @Test func aConflictingWriteMakesTheServerDecideAgain() throws {
        let world = Cluster(["server-1", "server-2"])
        _ = try start(world, enable(arc))
        // Someone writes the record between server-1's read and its "applying" write.
        world.cluster.beforeSave = { world.cluster.put(world.cluster.rollout!) }
        #expect(try world["server-1"].agent().step() == .conflict)
        #expect(world["server-1"].applied == 0 && world.cluster.holder == nil)
        try world.run()
        #expect(world.cluster.rollout?.state == .succeeded)
    }

    @Test func aDamagedRecordIsRefusedAsSuch() {
        #expect(throws: K3sRolloutError.self) { try K3sRollout.decode("{\"generation\": \"x\"}") }
        #expect(throws: K3sRolloutError.self) { try K3sRollout.decode(String(repeating: " ", count: K3sRollout.maximumBytes + 1)) }
    }

    @Test func decisionsArePureFunctionsOfTheRecordAndTheNodes() {
        let change = enable(arc)
        var rollout = K3sRollout(generation: 1, change: change, requestedBy: "a", requestedAt: Date(), servers: ["b", "a"])
        let ready = [K3sServerNode(name: "a", ready: true), K3sServerNode(name: "b", ready: true)]
        #expect(K3sRolloutDecision.decide(nil, node: "a", servers: ready) == .idle("no rollout is running"))
        #expect(K3sRolloutDecision.decide(rollout, node: "a", servers: ready) == .apply)
        #expect(K3sRolloutDecision.decide(rollout, node: "b", servers: ready) == .wait("a goes first"))
        #expect(K3sRolloutDecision.decide(rollout, node: "c", servers: ready) == .idle("c is not one of the rollout's servers"))
        rollout.servers[0].state = .done
        #expect(K3sRolloutDecision.decide(rollout, node: "a", servers: ready) == .idle("a is done"))
        #expect(K3sRolloutDecision.decide(rollout, node: "b", servers: ready) == .apply)
        #expect(K3sRolloutDecision.decide(rollout, node: "b", servers: [ready[1], K3sServerNode(name: "a", ready: false)]) == .wait("a is not Ready"))
        rollout.servers[1].state = .done
        #expect(K3sRolloutDecision.decide(rollout, node: "a", servers: ready) == .finish(.succeeded))
    }
}

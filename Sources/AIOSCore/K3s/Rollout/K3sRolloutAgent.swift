import FoundationEssentials

/// One server's part in rollouts: each aiosd runs `step()` now and then. It reads the rollout from the cluster,
/// decides (`K3sRolloutDecision`), and when it is this server's turn takes the restart lock, marks itself
/// applying, makes the change with the local workflow and records how it went. No state outside the cluster
/// and the host: any server can stop at any point and the rollout goes on from what the cluster records.
public struct K3sRolloutAgent: Sendable {
    /// This server's Node name.
    public let node: String
    public let store: K3sRolloutStore
    public let directory: K3sServerDirectory
    public let lock: K3sRestartLock
    public let local: K3sLocalChanger
    /// Longer than a change plus its rollback can take: a lock left by a server that died is free after it.
    public let lockDuration: Duration
    /// This host's view of files named by flags (the local policy judges path-valued flags with it).
    public let files: FileTrust
    public let now: @Sendable () -> Date

    public init(node: String, store: K3sRolloutStore, directory: K3sServerDirectory, lock: K3sRestartLock, local: K3sLocalChanger,
                lockDuration: Duration, files: FileTrust = .host, now: @escaping @Sendable () -> Date = { Date() }) {
        self.node = node
        self.store = store
        self.directory = directory
        self.lock = lock
        self.local = local
        self.lockDuration = lockDuration
        self.files = files
        self.now = now
    }

    /// How often a server applying renews the restart lock: a change longer than `lockDuration` keeps it.
    public var lockRenewInterval: Duration { Self.renewInterval(of: lockDuration) }
    public static func renewInterval(of lockDuration: Duration) -> Duration { lockDuration / 3 }

    /// Renews the restart lock if this server holds it (a step applying runs meanwhile); false if it does not.
    public func renewLock() throws(K3sRolloutError) -> Bool { try lock.renew(holder: node, for: lockDuration) }

    public enum Outcome: Sendable, Equatable {
        case idle(String)
        case waited(String)
        /// This server made its part of the change (or refused it, or failed and rolled back).
        case applied(K3sLocalChangeResult)
        case finished(K3sRollout.State)
        /// Another server wrote the record first; the next step decides again.
        case conflict
    }

    public func step() throws(K3sRolloutError) -> Outcome {
        guard let (rollout, version) = try store.load() else { return .idle("no rollout was ever requested") }
        let servers = rollout.state == .running ? try directory.servers() : []
        switch K3sRolloutDecision.decide(rollout, node: node, servers: servers) {
        case .idle(let why): return .idle(why)
        case .wait(let why): return .waited(why)
        case .finish(let state):
            var finished = rollout
            finished.state = state
            finished.finishedAt = now()
            return try store.save(finished, replacing: version) ? .finished(state) : .conflict
        case .apply:
            return try apply(rollout, version: version)
        }
    }

    private func apply(_ rollout: K3sRollout, version: String) throws(K3sRolloutError) -> Outcome {
        // The recorded level is judged again here: this server refuses what its own policy refuses.
        do throws(PolicyRefusal) {
            try rollout.change.checkPolicy(files: files)
        } catch {
            let result = K3sLocalChangeResult(state: .refused, message: "refused by this server's policy: \(error.description)")
            try record(result, of: rollout.generation, startedAt: now())
            return .applied(result)
        }
        guard try lock.acquire(holder: node, for: lockDuration) else { return .waited("another server holds the restart lock") }
        var started = rollout
        let startedAt = rollout.progress(of: node)?.startedAt ?? now()
        started.update(node) {
            $0.state = .applying
            $0.startedAt = startedAt
        }
        guard try store.save(started, replacing: version) else {
            try lock.release(holder: node)
            return .conflict
        }
        let result = local.apply(rollout.change)
        // Released before the result is recorded: until then the others see this server applying and wait; a
        // crash in between leaves it applying, and this server carries on (the change is idempotent).
        try lock.release(holder: node)
        try record(result, of: rollout.generation, startedAt: startedAt)
        return .applied(result)
    }

    /// Writes this server's result, and the rollout's end when it was the failure or the last server.
    private func record(_ result: K3sLocalChangeResult, of generation: Int, startedAt: Date) throws(K3sRolloutError) {
        for _ in 0..<Self.conflictRetries {
            guard let (current, version) = try store.load(), current.generation == generation else {
                throw K3sRolloutError("the rollout of generation \(generation) was replaced while \(node) applied it")
            }
            var updated = current
            let finishedAt = now()
            updated.update(node) {
                $0.state = result.state
                $0.startedAt = $0.startedAt ?? startedAt
                $0.finishedAt = finishedAt
                $0.changed = result.changed
                $0.message = result.message
            }
            // An aborted rollout stays aborted: only this server's own result is recorded.
            if updated.state == .running, result.state.isFailure || updated.servers.allSatisfy({ $0.state == .done }) {
                updated.state = result.state.isFailure ? .failed : .succeeded
                updated.finishedAt = finishedAt
            }
            if try store.save(updated, replacing: version) { return }
        }
        throw K3sRolloutError("cannot record \(node)'s result: the rollout record kept changing")
    }

    static let conflictRetries = 10
}

/// Records a new rollout: the node that was asked does this, after judging the request with the caller's level.
public enum K3sRolloutRequest {
    public static func start(_ change: K3sDesiredChange, requestedBy node: String, store: K3sRolloutStore,
                             directory: K3sServerDirectory, now: Date) throws(K3sRolloutError) -> K3sRollout {
        let existing = try store.load()
        if let (rollout, _) = existing, rollout.state == .running {
            throw K3sRolloutError("a rollout is already running (generation \(rollout.generation): \(rollout.change.summary), requested by \(rollout.requestedBy))",
                                  hint: "follow it with: aiosctl k3s rollout")
        }
        let servers = try directory.servers().map(\.name)
        guard !servers.isEmpty else {
            throw K3sRolloutError("the cluster has no Node labelled \(KubernetesServerDirectory.controlPlaneLabel)",
                                  hint: "run without --all-servers to change this host only")
        }
        let rollout = K3sRollout(generation: (existing?.rollout.generation ?? 0) + 1, change: change, requestedBy: node,
                                 requestedAt: now, servers: servers)
        guard try store.save(rollout, replacing: existing?.version) else {
            throw K3sRolloutError("another rollout was requested at the same moment", hint: "see it with: aiosctl k3s rollout")
        }
        return rollout
    }
}

/// Stops a running rollout (`aiosctl k3s rollout abort`): no server starts its turn after this; a server applying
/// finishes or rolls back its own change and records it.
public enum K3sRolloutAbort {
    public static func abort(by node: String, store: K3sRolloutStore, now: Date) throws(K3sRolloutError) -> K3sRollout {
        for _ in 0..<K3sRolloutAgent.conflictRetries {
            guard let (rollout, version) = try store.load() else {
                throw K3sRolloutError("no rollout across servers was ever requested in this cluster")
            }
            guard rollout.state == .running else {
                throw K3sRolloutError("rollout \(rollout.generation) is not running (it \(rollout.state.rawValue)); nothing to abort",
                                      hint: "see it with: aiosctl k3s rollout")
            }
            var aborted = rollout
            aborted.state = .aborted
            aborted.finishedAt = now
            aborted.abortedBy = node
            if try store.save(aborted, replacing: version) { return aborted }
        }
        throw K3sRolloutError("the rollout record kept changing; try again")
    }
}

extension K3sDesiredChange {
    /// The same policy as the single-host request, with the recorded level: refused where the request would be.
    public func checkPolicy(files: FileTrust = .host) throws(PolicyRefusal) {
        guard let level = Privilege.named(requester), level >= .operator else {
            throw PolicyRefusal(rule: "rollout-requester", kind: .needsPrivilege(.operator),
                                message: "the rollout was requested by \"\(requester)\"; only an operator or root may change K3s")
        }
        switch kind {
        case .enableWorkloadIdentity:
            do throws(WorkloadIdentityPlanner.Refusal) {
                try WorkloadIdentityPlanner.validateIssuer(issuer ?? "")
            } catch {
                throw PolicyRefusal(rule: "issuer-syntax", kind: .invalid, message: error.description)
            }
            try APIServerFlagPolicy.checkWorkloadIdentity(maxTokenExpiration: maxTokenExpiration ?? "24h", requester: level)
        case .disableWorkloadIdentity:
            break
        case .editAPIServerArguments:
            let set = set ?? [], unset = unset ?? []
            guard !set.isEmpty || !unset.isEmpty else {
                throw PolicyRefusal(rule: "rollout-record", kind: .invalid, message: "the rollout sets and unsets nothing")
            }
            try APIServerFlagPolicy.check(set: set.map(APIServerArgument.init(parsing:)), unset: unset, requester: level, files: files)
        }
    }
}

extension Privilege {
    /// The level a `description` names.
    public static func named(_ name: String) -> Privilege? {
        [Privilege.reader, .operator, .root].first { $0.description == name }
    }
}

import FoundationEssentials
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease with client-go's semantics
/// (kubernetes/client-go, tools/leaderelection/leaderelection.go: `tryAcquireOrRenew`, `renew`, `release`):
///
/// - A Lease whose holder is someone else is theirs until it expires; after that anyone may take it, adding one
///   to `leaseTransitions`. client-go counts the lease duration from `observedTime`, *this* node's clock when it
///   first saw the record change, so a takeover after a crash comes up to one retry period late (the renewal is
///   seen that late). Here, when the record changes, its `renewTime` is compared with this node's clock: if the
///   apparent age (request sent − renewTime) lies within [−ε, retryPeriod × 1.2 + ε] (ε = 1.5 s) the clocks agree and
///   the lease expires at `renewTime + leaseDurationSeconds`; otherwise (a skewed clock, or a record first seen
///   long after it was written) it falls back to client-go's `observedTime + leaseDurationSeconds`. Safety: a
///   clock ahead by at most retryPeriod × 1.2 + ε makes this node take over that much early, still after the
///   leader's fence closed (renewDeadline after its renewal) as long as leaseDuration − renewDeadline exceeds
///   it; with settings that leave less room, observed time is used always.
/// - Every write carries the resourceVersion read, so of two candidates racing for one Lease exactly one
///   succeeds (the other gets 409 and stays a follower).
/// - A leader that has not renewed within `renewDeadline` stops leading; since every other node's view of
///   its claim lasts `leaseDuration` (> `renewDeadline`) from a moment after its last renewal, it has stopped
///   writing before anyone else may start (`mayWrite` is the fence every write checks).
///
/// Pure logic: the clock and the Lease calls are injected; the daemon runs `step()` every `retryPeriod`.
public final class LeaderElector: Sendable {
    public let identity: String
    public let settings: LeaderElectionSettings
    public let namespace: String
    public let name: String
    private let client: any LeaseClient
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    struct State {
        var observed: LeaseRecord?
        /// This node's clock when `observed` last changed.
        var observedTime: Date?
        /// When `observed`'s claim lapses by this node's clock: by its renewTime when the clocks agree, else
        /// `observedTime + leaseDuration`.
        var expiry: Date?
        /// When the last successful acquire or renew started (the record says `renewTime` = that moment).
        var lastRenew: Date?
        var leading = false
        var lastError: String?
    }

    /// What changed at a step, for the journal.
    public enum Transition: Sendable, Equatable {
        case becameLeader
        case stoppedLeading(reason: String)
        case newLeader(String)
    }

    /// Who syncs, as this node sees it.
    public struct View: Sendable, Equatable {
        public var leading: Bool
        /// The holder of a Lease that has not lapsed (this node when leading); nil when no one holds it.
        public var leader: String?
        /// When the current holder acquired the Lease (its `acquireTime`).
        public var leaderSince: Date?
        public var transitions: Int
        /// Why the last attempt failed (an API server error), if it did.
        public var lastError: String?
    }

    public init(identity: String, settings: LeaderElectionSettings, client: any LeaseClient,
                namespace: String = LeaderElectionSettings.namespace, name: String = LeaderElectionSettings.leaseName,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.identity = identity
        self.settings = settings
        self.client = client
        self.namespace = namespace
        self.name = name
        self.now = now
    }

    private var leaseSeconds: Int { Int(settings.leaseDuration.components.seconds) }
    private var renewDeadline: TimeInterval { TimeInterval(settings.renewDeadline.components.seconds) }

    /// One attempt to acquire or renew, then the renew-deadline check; returns what changed.
    @discardableResult
    public func step() -> [Transition] {
        let started = now()
        let before = state.withLock { ($0.leading, Self.holder($0.observed)) }
        let acquired = tryAcquireOrRenew(at: started)
        return state.withLock { s -> [Transition] in
            var transitions: [Transition] = []
            if acquired {
                s.lastRenew = started
                if !s.leading { s.leading = true; transitions.append(.becameLeader) }
            } else if s.leading {
                if Self.holder(s.observed) != identity {
                    s.leading = false
                    transitions.append(.stoppedLeading(reason: "the Lease is held by \(Self.holder(s.observed) ?? "no one")"))
                } else if let last = s.lastRenew, started.timeIntervalSince(last) >= renewDeadline {
                    s.leading = false
                    transitions.append(.stoppedLeading(reason: "not renewed within the renew deadline (\(Int(renewDeadline))s)"))
                }
            }
            let holder = Self.holder(s.observed)
            if let holder, holder != before.1, holder != identity { transitions.append(.newLeader(holder)) }
            return transitions
        }
    }

    /// The fence: true only while this node leads and its last renewal is younger than the renew deadline.
    /// Checked before every Secret or status write; false as soon as the deadline passes, even between steps.
    public var mayWrite: Bool {
        let current = now()
        return state.withLock { s in
            guard s.leading, let last = s.lastRenew else { return false }
            return current.timeIntervalSince(last) < renewDeadline
        }
    }

    public var view: View {
        let current = now()
        return state.withLock { s in
            let valid = Self.leaseValid(s, at: current)
            let leader = s.leading ? identity : (valid ? Self.holder(s.observed) : nil)
            return View(leading: s.leading, leader: leader, leaderSince: leader == nil ? nil : s.observed?.acquireTime,
                        transitions: s.observed?.leaseTransitions ?? 0, lastError: s.lastError)
        }
    }

    /// client-go's `tryAcquireOrRenew`: create the Lease if there is none; leave it alone while someone else's
    /// claim lasts; otherwise write this node's claim over the resourceVersion read.
    func tryAcquireOrRenew(at time: Date) -> Bool {
        var claim = LeaseRecord(holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: time, renewTime: time)
        let existing: LeaseRecord?
        do {
            existing = try client.getLease(namespace: namespace, name: name)
        } catch {
            state.withLock { $0.lastError = error.description }
            return false
        }
        guard let existing else {
            claim.leaseTransitions = 0
            do {
                let created = try client.createLease(namespace: namespace, name: name, claim)
                observe(created, at: now(), error: nil)
                return true
            } catch {
                // 409: another candidate created it first; its claim is seen at the next attempt.
                state.withLock { $0.lastError = error.code == 409 ? nil : error.description }
                return false
            }
        }
        let (held, isLeader) = state.withLock { s -> (Bool, Bool) in
            if s.observed.map({ !$0.sameElection(as: existing) }) ?? true {
                let seen = now()
                s.observed = existing
                s.observedTime = seen
                // The age is judged from when the request was sent (`time`): the renewal was there by the answer,
                // so the API round trip does not count as skew.
                s.expiry = expiry(of: existing, seenAt: seen, sentAt: time)
            }
            let isLeader = Self.holder(existing) == identity
            let held = !(existing.holderIdentity ?? "").isEmpty && Self.leaseValid(s, at: time) && !isLeader
            return (held, isLeader)
        }
        if held {
            state.withLock { $0.lastError = nil }
            return false
        }
        if isLeader {
            claim.acquireTime = existing.acquireTime ?? time
            claim.leaseTransitions = existing.leaseTransitions ?? 0
        } else {
            claim.leaseTransitions = (existing.leaseTransitions ?? 0) + 1
        }
        claim.labels = existing.labels
        claim.annotations = existing.annotations
        claim.resourceVersion = existing.resourceVersion
        // renewTime as late as possible (right before the write), so followers judge its age without this
        // node's read; the fence still counts from `time`, earlier, so it closes no later than before.
        claim.renewTime = now()
        do {
            let updated = try client.updateLease(namespace: namespace, name: name, claim)
            observe(updated, at: now(), error: nil)
            return true
        } catch {
            state.withLock { $0.lastError = error.code == 409 ? nil : error.description }
            return false
        }
    }

    /// client-go's `release` (ReleaseOnCancel): a leader stopping gracefully empties the holder, so another
    /// node takes over at its next attempt instead of after the lease duration. Stops writing first.
    public func release() {
        let observed = state.withLock { s -> LeaseRecord? in
            defer { s.leading = false }
            return s.leading ? s.observed : nil
        }
        guard let observed, observed.holderIdentity == identity else { return }
        let time = now()
        var released = observed
        released.holderIdentity = ""
        released.leaseDurationSeconds = 1
        released.acquireTime = time
        released.renewTime = time
        if let updated = try? client.updateLease(namespace: namespace, name: name, released) {
            observe(updated, at: now(), error: nil)
        }
    }

    private func observe(_ record: LeaseRecord, at time: Date, error: String?) {
        let expiry = expiry(of: record, seenAt: time)
        state.withLock {
            $0.observed = record
            $0.observedTime = time
            $0.expiry = expiry
            $0.lastError = error
        }
    }

    /// How far apart two clocks may be, beyond the retry period's lag, for the renewTime to be trusted.
    public static let clockTolerance: TimeInterval = 1.5

    /// When `record`'s claim lapses by this node's clock, seen at `seen` in the answer to a request sent at
    /// `sent` (see the type's comment).
    func expiry(of record: LeaseRecord, seenAt seen: Date, sentAt sent: Date? = nil) -> Date {
        let seconds = TimeInterval(record.leaseDurationSeconds ?? leaseSeconds)
        let observed = seen.addingTimeInterval(seconds)
        guard let renewed = record.renewTime, clocksAgree(renewed: renewed, seen: sent ?? seen) else { return observed }
        return renewed.addingTimeInterval(seconds)
    }

    /// The apparent age of a renewal just seen lies within what polling explains, and the settings leave room
    /// for that much skew between the leader's fence and this node's takeover.
    func clocksAgree(renewed: Date, seen: Date) -> Bool {
        let retry = TimeInterval(settings.retryPeriod.components.seconds)
        let window = retry * 1.2 + Self.clockTolerance
        guard TimeInterval(leaseSeconds) - renewDeadline > window else { return false }
        let age = seen.timeIntervalSince(renewed)
        return age >= -Self.clockTolerance && age <= window
    }

    /// Seconds until the observed holder's claim lapses (nil when this node leads or no one holds the Lease): a
    /// follower tries again right then instead of up to a retry period later.
    public var secondsUntilExpiry: TimeInterval? {
        let current = now()
        return state.withLock { s in
            guard !s.leading, Self.holder(s.observed) != nil, let expiry = s.expiry else { return nil }
            return max(0, expiry.timeIntervalSince(current))
        }
    }

    /// The holder of `record` whose claim still lasts at `time` by its renewTime (for a reader that has not
    /// watched the Lease change, e.g. `aiosctl cluster status` on any node; it assumes clocks roughly in step).
    public static func currentHolder(of record: LeaseRecord, at time: Date) -> String? {
        guard let holder = holder(record), let renewed = record.renewTime,
              renewed.addingTimeInterval(TimeInterval(record.leaseDurationSeconds ?? 0)) > time else { return nil }
        return holder
    }

    private static func holder(_ record: LeaseRecord?) -> String? {
        guard let holder = record?.holderIdentity, !holder.isEmpty else { return nil }
        return holder
    }

    /// The observed claim's expiry is still ahead (client-go's `isLeaseValid`, with the expiry above).
    private static func leaseValid(_ s: State, at time: Date) -> Bool {
        guard s.observed != nil, let expiry = s.expiry else { return false }
        return expiry > time
    }
}

import FoundationEssentials
import Logging
import Synchronization

/// The cluster's SecretSync and SecretProviderClass objects, kept current by a list + watch per kind (`watch(_:)`,
/// a blocking loop the daemon runs on a thread of its bounded pool until `stop()`; reconnecting with the last resourceVersion after the API server restarts, listing again when
/// it is too old). Tells the sync runner when something that matters changed; status-only changes (aiosd's own
/// status writes) do not count.
public final class ClusterSyncSource: Sendable {
    /// Where the Secret Synchronization Controller runs when AIO installs it: the Arc extension
    /// `azure-secret-store` (type microsoft.azure.secretstore, Azure IoT Operations' Secret Store extension)
    /// in namespace `azure-secret-store`, its pods `secret-sync-controller-...` (az iot ops:
    /// azext_edge/edge/providers/orchestration/template.py; Arc docs secret-store-extension.md). Only objects
    /// in these namespaces count: a Lease or Deployment any namespace user can create elsewhere never switches
    /// aiosd off.
    public static let controllerNamespaces = ["azure-secret-store"]
    /// Name prefixes of the controller's Deployment: SSE's `secret-sync-controller`, and the upstream chart's
    /// `secrets-store-sync-controller[-manager]`.
    public static let controllerDeploymentPrefixes = ["secret-sync-controller", "secrets-store-sync-controller"]
    /// The upstream controller's leader-election Lease (controller-runtime LeaderElectionID in
    /// kubernetes-sigs/secrets-store-sync-controller cmd/main.go; held only with --leader-elect).
    public static let controllerLease = "29f1d54e.secret-sync.x-k8s.io"

    public struct Snapshot: Sendable {
        /// False while the CRDs are not installed (or the API server has not been reached yet).
        public var available: Bool
        public var secretSyncs: [ClusterObjects.SecretSync]
        public var providerClasses: [String: ClusterObjects.ProviderClass]
        public var lastError: String?
    }

    private struct State {
        var syncs: [String: ClusterObjects.SecretSync] = [:]
        var classes: [String: ClusterObjects.ProviderClass] = [:]
        var syncsAvailable = false
        var classesAvailable = false
        var removed: [ClusterObjects.SecretSync] = []
        var lastError: String?
        var stopped = false
        /// Both kinds got a first answer from the API server (a list, a 404 for a missing CRD, or an error).
        var answered: Set<String> = []
    }

    private let state = Mutex(State())
    /// Wakes watch threads waiting out a backoff (the API server is known to answer again).
    private let wake = ThreadCondition()
    /// Guarded by `wake`'s lock (an NSCondition must own the value its waiters test, which a Mutex cannot share).
    nonisolated(unsafe) private var wakeGeneration = 0
    private let kubernetes: @Sendable () throws -> KubernetesClient
    private let logger: Logger
    private let onChange: @Sendable (String) -> Void
    /// How long one watch request may stay open before it is renewed.
    let watchSeconds: Int

    public init(kubernetes: @escaping @Sendable () throws -> KubernetesClient, logger: Logger, watchSeconds: Int = 300,
                onChange: @escaping @Sendable (String) -> Void) {
        self.kubernetes = kubernetes
        self.logger = logger
        self.watchSeconds = watchSeconds
        self.onChange = onChange
    }

    public func stop() {
        state.withLock { $0.stopped = true }
        reconnectNow()
    }

    /// The API server just answered (a sync talked to it, a K3s restart was verified): a watch that lost it
    /// reconnects now instead of at the end of its backoff (up to 30 s).
    public func reconnectNow() {
        wake.lock()
        wakeGeneration += 1
        wake.broadcast()
        wake.unlock()
    }

    /// How many times `reconnectNow` was called: a watch attempt notes it when it starts.
    private var reconnects: Int {
        wake.lock()
        defer { wake.unlock() }
        return wakeGeneration
    }

    /// Sleeps up to `seconds`, or less if `stop` (or, with `wakeOnReconnect`, `reconnectNow`) is called meanwhile.
    /// `since`: the `reconnects` count when the failed attempt started; a `reconnectNow` after it (while the
    /// request was failing, before this wait began) ends the wait at once instead of being missed.
    private func backoff(_ seconds: Double, wakeOnReconnect: Bool = true, since: Int? = nil) {
        wake.lock()
        let generation = since ?? wakeGeneration
        let deadline = Date().addingTimeInterval(seconds)
        while !stopped, !wakeOnReconnect || wakeGeneration == generation, wake.wait(until: deadline) {}
        wake.unlock()
    }

    /// Waits (up to `timeout`) until both kinds got their first answer, so a cycle right after start does not
    /// skip SecretSyncs it simply has not listed yet.
    public func waitForFirstAnswer(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while state.withLock({ $0.answered.count < 2 && !$0.stopped }), Date() < deadline {
            ThreadSleep.sleep(seconds: 0.05)
        }
    }

    /// The SecretSyncs could not be listed yet (the API server was away): try again now and wait (up to
    /// `timeout`) for the answer, so a cycle does not report them unreadable while the API server answers.
    public func retryNow(timeout: Double) {
        state.withLock { $0.answered = [] }
        reconnectNow()
        waitForFirstAnswer(timeout: timeout)
    }

    public var snapshot: Snapshot {
        state.withLock {
            Snapshot(available: $0.syncsAvailable && $0.classesAvailable, secretSyncs: $0.syncs.values.sorted { $0.key < $1.key },
                     providerClasses: $0.classes, lastError: $0.lastError)
        }
    }

    /// SecretSyncs deleted since the last call (their Secrets may have to go too).
    public func drainRemoved() -> [ClusterObjects.SecretSync] {
        state.withLock {
            let removed = $0.removed
            $0.removed = []
            return removed
        }
    }

    /// The Secret Synchronization Controller, if it runs in the cluster: its Deployment or its Lease in one of
    /// `controllerNamespaces`; nil when neither is there (or the API server cannot say).
    public static func controllerPresence(_ client: KubernetesClient) -> String? {
        for namespace in controllerNamespaces {
            let deployments = (try? KubernetesWatch(client: client, path: "/apis/apps/v1/namespaces/\(namespace)/deployments").list())??.items ?? []
            let leases = (try? KubernetesWatch(client: client, path: "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases").list())??.items ?? []
            if let found = controllerPresence(namespace: namespace, deployments: deployments, leases: leases) { return found }
        }
        return nil
    }

    /// The controller's object among one namespace's Deployments and Leases (raw JSON each), if any.
    public static func controllerPresence(namespace: String, deployments: [Data], leases: [Data]) -> String? {
        guard controllerNamespaces.contains(namespace) else { return nil }
        func names(_ items: [Data]) -> [String] {
            items.compactMap { item in
                guard let metadata = JSONValue.object(parsing: item)?["metadata"], metadata["namespace"]?.string == namespace else { return nil }
                return metadata["name"]?.string
            }
        }
        if let name = names(deployments).first(where: { name in controllerDeploymentPrefixes.contains { name.hasPrefix($0) } }) {
            return "Deployment \(namespace)/\(name)"
        }
        if names(leases).contains(controllerLease) { return "Lease \(namespace)/\(controllerLease)" }
        return nil
    }

    // MARK: Watching

    /// The two kinds watched, each by its own `watch(_:)` loop.
    public enum Kind: String, CaseIterable, Sendable { case secretSyncs = "secretsyncs", providerClasses = "secretproviderclasses" }

    private var stopped: Bool { state.withLock { $0.stopped } }

    /// Lists and watches `kind` until `stop()`: blocks its thread all along (one libcurl request at a time).
    public func watch(_ kind: Kind) {
        let path = kind == .secretSyncs ? ClusterObjects.secretSyncsPath : ClusterObjects.providerClassesPath
        var backoff = 1.0
        var resourceVersion: String?
        while !stopped {
            let attempt = reconnects
            do {
                let watch = KubernetesWatch(client: try kubernetes(), path: path)
                if resourceVersion == nil {
                    guard let listed = try watch.list() else {
                        // The CRD is not installed: look again later.
                        setAvailable(kind, false)
                        self.backoff(30, wakeOnReconnect: false)
                        continue
                    }
                    replace(kind, with: listed.items)
                    resourceVersion = listed.resourceVersion
                    setAvailable(kind, true)
                }
                let outcome = try watch.watch(from: resourceVersion!, timeoutSeconds: watchSeconds) { event in
                    if let version = event.resourceVersion { resourceVersion = version }
                    apply(kind, event)
                }
                backoff = 1
                if outcome == .expired {
                    logger.info("Watch expired; listing again", metadata: ["watch.resource": "\(kind.rawValue)"])
                    resourceVersion = nil
                }
            } catch {
                // The API server is away (K3s restarting): reconnect from the last resourceVersion, with backoff.
                state.withLock {
                    $0.lastError = "\(error)"
                    $0.answered.insert(kind.rawValue)
                }
                logger.debug("Watch interrupted; reconnecting", metadata: ["watch.resource": "\(kind.rawValue)", "error": "\(error)"])
                self.backoff(backoff, since: attempt)
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// (The list that follows reports new objects; an empty cluster needs no sync.)
    private func setAvailable(_ kind: Kind, _ available: Bool) {
        state.withLock { s in
            s.answered.insert(kind.rawValue)
            if kind == .secretSyncs { s.syncsAvailable = available } else { s.classesAvailable = available }
            if available { s.lastError = nil }
        }
    }

    /// A fresh list: what disappeared counts as deleted, what is new or changed triggers a sync.
    private func replace(_ kind: Kind, with items: [Data]) {
        var changed = false
        state.withLock { s in
            switch kind {
            case .secretSyncs:
                let fresh = Dictionary(items.compactMap(ClusterObjects.SecretSync.init(json:)).map { ($0.key, $0) }, uniquingKeysWith: { $1 })
                for (key, old) in s.syncs where fresh[key] == nil { s.removed.append(old); changed = true }
                for (key, new) in fresh where s.syncs[key].map({ $0.generation != new.generation || $0.uid != new.uid || $0.labels != new.labels }) ?? true {
                    changed = true
                }
                s.syncs = fresh
            case .providerClasses:
                let fresh = Dictionary(items.compactMap(ClusterObjects.ProviderClass.init(json:)).map { ($0.key, $0) }, uniquingKeysWith: { $1 })
                // A SecretProviderClass matters only to SecretSyncs.
                if fresh != s.classes && !s.syncs.isEmpty { changed = true }
                s.classes = fresh
            }
        }
        if changed { onChange("\(kind.rawValue) listed") }
    }

    private func apply(_ kind: Kind, _ event: KubernetesWatch.Event) {
        var changed = false
        state.withLock { s in
            switch kind {
            case .secretSyncs:
                guard let sync = ClusterObjects.SecretSync(json: event.object) else { return }
                switch event.type {
                case .added, .modified:
                    let old = s.syncs[sync.key]
                    // Status-only updates (aiosd's own) keep the generation: no sync for those. A label change keeps
                    // it too, but may select or deselect the SecretSync: that counts.
                    changed = old == nil || old!.generation != sync.generation || old!.uid != sync.uid || old!.labels != sync.labels
                    s.syncs[sync.key] = sync
                case .deleted:
                    if let old = s.syncs.removeValue(forKey: sync.key) { s.removed.append(old) }
                    changed = true
                case .bookmark, .error:
                    break
                }
            case .providerClasses:
                guard let providerClass = ClusterObjects.ProviderClass(json: event.object) else { return }
                switch event.type {
                case .added, .modified:
                    changed = s.classes[providerClass.key] != providerClass && !s.syncs.isEmpty
                    s.classes[providerClass.key] = providerClass
                case .deleted:
                    changed = s.classes.removeValue(forKey: providerClass.key) != nil && !s.syncs.isEmpty
                case .bookmark, .error:
                    break
                }
            }
        }
        if changed {
            logger.info("Cluster object changed", metadata: ["watch.resource": "\(kind.rawValue)", "watch.event": "\(event.type.rawValue)"])
            onChange("\(kind.rawValue) \(event.type.rawValue.lowercased())")
        }
    }
}

@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Synchronization

/// A credential that counts the tokens it was asked for.
final class TokenCounter: TokenCredential, Sendable {
    private let count = Mutex(0)
    var calls: Int { count.withLock { $0 } }

    func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let n = count.withLock { $0 += 1; return $0 }
        return AccessToken(value: "token-\(n)", expiresOn: Date().addingTimeInterval(3600))
    }
}

/// A sync engine over a fake Kubernetes API server and fake vaults (the real clients, fakes only at their
/// transports), with its state and content-hash key in a temporary directory.
final class SyncHarness: @unchecked Sendable {
    static let planted = "PLANTED-VALUE-7f3a9c"
    let directory: TemporaryDirectory
    let kube = FakeKubernetes()
    let vaults = FakeVaults()
    let logs = LogCapture()
    /// The vault budgets' and backoffs' time: virtual, so a 429 costs no real time.
    let clock = VirtualClock()
    /// One counting credential per identity, made when the engine first asks for it.
    final class Credentials: Sendable {
        private let map = Mutex<[SyncIdentity: TokenCounter]>([:])
        func callFor(_ identity: SyncIdentity) -> TokenCounter {
            map.withLock { map in
                if let existing = map[identity] { return existing }
                let made = TokenCounter()
                map[identity] = made
                return made
            }
        }
        subscript(_ identity: SyncIdentity) -> TokenCounter? { map.withLock { $0[identity] } }
        var calls: [Int] { map.withLock { $0.values.map(\.calls) } }
    }
    let credentials = Credentials()
    let key: [UInt8]
    var configuration = AgentConfiguration()
    private(set) var engine: SecretSyncEngine!
    /// The leader-election fence the engine checks before each write (open unless a test closes it).
    final class Fence: Sendable {
        private let state = Mutex(true)
        var open: Bool {
            get { state.withLock { $0 } }
            set { state.withLock { $0 = newValue } }
        }
    }
    let fence = Fence()
    /// The engine's workers: they keep a cycle's work items after the cycle returned, as aiosd's pool may.
    let workers = ThreadWorkers()
    /// Other workers for the engine instead (aiosd's own pool, in the daemon's tests).
    private let otherWorkers: (any BlockingWorkers)?

    init(key: [UInt8] = Array(repeating: 7, count: 32), workers: (any BlockingWorkers)? = nil) throws {
        self.key = key
        otherWorkers = workers
        directory = try TemporaryDirectory(prefix: "sync")
        configuration.sync.kubeconfig = try directory.write("k3s.yaml", FakeKubernetes.kubeconfig)
        configuration.identity.tenantId = "72f988bf-0000-4000-8000-00000000a105"
        configuration.identity.clientId = "11111111-2222-3333-4444-555555555555"
        try Data(key).write(to: URL(fileURLWithPath: directory.file("content-hash.key")))
        restart()
    }

    deinit {
        workers.dropFinishedWork()
        directory.remove()
    }

    /// A new engine over the same state file, as after an aiosd restart (no values in memory, no tokens).
    func restart() {
        engine = makeEngine(statePath: directory.file("sync-state.json"))
    }

    /// Another host's engine on the same fake cluster and vaults: its own state file, its own memory.
    func makeEngine(statePath: String) -> SecretSyncEngine {
        let credentials = self.credentials
        let transports = SyncConnections.Transports(
            kubernetes: kube.transport, kubernetesStream: kube.streamer, vault: vaults.transport,
            credential: { identity in credentials.callFor(identity) },
            logger: logs.logger("aios.keyvault"), budgetClock: clock.budgetClock)
        return SecretSyncEngine(state: SyncStateStore(path: statePath), hasherKeyPath: directory.file("content-hash.key"),
                                connections: SyncConnections(transports: transports), workers: otherWorkers ?? workers, logger: logs.logger("aios.sync"),
                                mayWrite: { [fence] in fence.open })
    }

    func definition(_ name: String, _ yaml: String) throws -> SyncDefinition {
        try SyncDefinitionFile.parse(yaml, file: "/etc/aios/secrets.d/\(name).yaml", name: name, defaultNamespace: "apps")
    }

    /// `db`: one object `db-password` of vault `kv-one` as key `password` of Secret apps/db.
    func db() throws -> SyncDefinition {
        try definition("db", "keyvaultName: kv-one\nobjects:\n  - objectName: db-password\nsecretObject:\n  data:\n    - {sourcePath: db-password, targetKey: password}\n")
    }

    /// One definition per name in vault `kv-one`: object `NAME-password` (value `value-of-NAME`) as key
    /// `password` of Secret apps/NAME.
    func definitions(_ names: [String]) throws -> [SyncDefinition] {
        try names.map { name in
            vaults.set("kv-one", "\(name)-password", "value-of-\(name)")
            return try definition(name, """
                keyvaultName: kv-one
                objects:
                  - objectName: \(name)-password
                secretObject:
                  data:
                    - {sourcePath: \(name)-password, targetKey: password}
                """)
        }
    }

    /// A harness after a first cycle synced `value` of `db-password` to apps/db.
    static func synced(_ value: String) throws -> SyncHarness {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", value)
        h.run([try h.db()])
        return h
    }

    @discardableResult
    func run(_ definitions: [SyncDefinition], force: Bool = false) -> SyncCycleReport {
        engine.run(definitions: definitions, invalid: [], force: force, configuration: configuration)
    }

    func value(_ namespace: String, _ name: String, _ key: String) -> String? {
        kube.secret(namespace, name)?.data[key].map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The engine's workers in tests: a thread per piece of work, releasing each work item the way aiosd's pool
/// (`SyncWorkers`, a NIOThreadPool) may, after the cycle that gave it has returned. A pool thread drops its item
/// only when the call returns (swift-nio `NIOThreadPool.process`: `item(state)` in a loop), and the work signals
/// the waiting cycle before that, so the cycle can return while the item, and everything it captured (the
/// progress callback), is still alive. Here that is certain, not a race: the last work item given stays held
/// until the next one comes or the harness ends, so a callback that is not truly escaping traps in every test.
final class ThreadWorkers: BlockingWorkers {
    private let held = Mutex<(@Sendable () -> Void)?>(nil)
    private let started = Mutex(0)
    /// Threads whose work has not yet returned and been released; `dropFinishedWork` waits for none.
    private let running = Mutex(0)
    /// Work items started so far.
    var executions: Int { started.withLock { $0 } }

    /// Holds a thread's work item until the thread takes it: a Thread keeps its closure until it is deallocated,
    /// which may be after the thread counted itself out, so the closure must not hold the item itself.
    private final class Handoff: Sendable {
        let work: Mutex<(@Sendable () -> Void)?>
        init(_ work: @escaping @Sendable () -> Void) { self.work = Mutex(work) }
        func runAndRelease() {
            let work = self.work.withLock { work in
                defer { work = nil }
                return work
            }
            work?()
        }
    }

    func execute(width: Int, _ work: @escaping @Sendable () -> Void) {
        started.withLock { $0 += 1 }
        let previous = held.withLock { held in
            defer { held = work }
            return held
        }
        _ = previous  // released here, outside the lock: the cycle that gave it is over or still holds it
        running.withLock { $0 += 1 }
        let handoff = Handoff(work)
        Thread { [self] in
            handoff.runAndRelease()
            running.withLock { $0 -= 1 }
        }.start()
    }

    /// Waits for every thread to be done with its work, then lets go of the item still held (it may capture its
    /// engine: a cycle of references otherwise).
    func dropFinishedWork() {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while running.withLock({ $0 }) > 0, ContinuousClock.now < deadline { usleep(1_000) }
        let last = held.withLock { held in
            defer { held = nil }
            return held
        }
        _ = last
    }

    /// True while a work item of a finished cycle is still held (the state the progress callback must survive).
    var holdsWork: Bool { held.withLock { $0 != nil } }
}

import AIOSCore
import Logging
import ServiceLifecycle

/// This server's part in rollouts of K3s changes across the cluster: looks at the rollout record every 5 s
/// (every second while one runs) and, when it is this server's turn, makes the change here as a host job.
/// On a host without a K3s server it only checks every 10 s whether one arrived.
struct K3sRolloutService: Service {
    static let serviceName = "k3s-rollout"
    static let idleInterval = Duration.seconds(5)
    static let activeInterval = Duration.seconds(1)

    let rollouts: K3sRollouts
    let state: DaemonState
    let logger: Logger
    /// Kubernetes calls block: they run here, never on the cooperative pool or the host-operations queue. Two
    /// threads: a step applying this server's change holds one for as long as the change takes, while the other
    /// renews the restart lock.
    private let threads = BlockingPool(threads: 2)

    /// Wakes a host without a K3s server when K3s arrives.
    let k3sArrival: K3sArrival

    init(rollouts: K3sRollouts, state: DaemonState, logger: Logger, k3sArrival: K3sArrival) {
        self.k3sArrival = k3sArrival
        self.rollouts = rollouts
        self.state = state
        self.logger = logger
    }

    func run() async throws {
        state.setService(Self.serviceName, .running, detail: "looking for K3s")
        var node: String?
        var last = ""
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            guard let (found, outcome) = await step(node: node) else { break }  // cancelled: aiosd is stopping
            node = found
            let text = Self.describe(outcome, node: node)
            if text != last { log(outcome, text: text) }
            last = text
            state.setService(Self.serviceName, .running, detail: text)
            if node == nil {
                await k3sArrival.wait()
                continue
            }
            let wait = Self.isActive(outcome) ? Self.activeInterval : Self.idleInterval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                break
            }
        }
        state.setService(Self.serviceName, .stopped)
    }

    /// One look at the rollout, on the service's thread. nil outcome: no K3s server on this host (yet); nil: cancelled.
    /// Meanwhile a child task renews the restart lock while this server holds it: a change (restart, readiness
    /// wait, rollback) longer than the lock's duration keeps it, so no other server restarts K3s meanwhile.
    private func step(node: String?) async -> (String?, Result<K3sRolloutAgent.Outcome, K3sRolloutError>?)? {
        let rollouts = self.rollouts, threads = self.threads, logger = self.logger
        return await withTaskGroup(of: Void.self) { group in
            if let node { group.addTask { await Self.renewLock(rollouts: rollouts, node: node, threads: threads, logger: logger) } }
            let result = try? await threads.run { () -> (String?, Result<K3sRolloutAgent.Outcome, K3sRolloutError>?) in
                guard let node = node ?? rollouts.serverNodeName() else { return (nil, nil) }
                guard let agent = rollouts.agent(node: node) else {
                    return (node, .failure(K3sRolloutError("cannot read K3s' admin kubeconfig")))
                }
                return (node, Result { () throws(K3sRolloutError) in try agent.step() })
            }
            group.cancelAll()
            return result
        }
    }

    /// Every third of the lock's duration (`K3sRolloutAgent.lockRenewInterval`) until cancelled: renews the restart lock if
    /// this server holds it (a step shorter than that never renews).
    private static func renewLock(rollouts: K3sRollouts, node: String, threads: BlockingPool, logger: Logger) async {
        // Nothing is read until a renewal is due: a short step costs no file or API access here.
        while !Task.isCancelled {
            do { try await Task.sleep(for: K3sRolloutAgent.renewInterval(of: rollouts.lockDuration)) } catch { return }
            let renewed = try? await threads.run { () -> Result<Bool, K3sRolloutError> in
                guard let agent = rollouts.agent(node: node) else { return .failure(K3sRolloutError("cannot read K3s' admin kubeconfig")) }
                return Result { () throws(K3sRolloutError) in try agent.renewLock() }
            }
            switch renewed {
            case .success(true):
                logger.info("K3s restart lock renewed while this server's change runs", metadata: ["node": "\(node)"])
            case .failure(let error):
                logger.warning("Cannot renew the K3s restart lock", metadata: ["node": "\(node)", "error": "\(error.message)"])
            default:
                break
            }
        }
    }

    static func isActive(_ outcome: Result<K3sRolloutAgent.Outcome, K3sRolloutError>?) -> Bool {
        switch outcome {
        case .success(.waited), .success(.applied), .success(.conflict), .success(.finished): true
        default: false
        }
    }

    static func describe(_ outcome: Result<K3sRolloutAgent.Outcome, K3sRolloutError>?, node: String?) -> String {
        guard let outcome, let node else { return "no K3s server on this host" }
        switch outcome {
        case .success(.idle(let why)): return "\(node): \(why)"
        case .success(.waited(let why)): return "\(node) waits: \(why)"
        case .success(.applied(let result)): return "\(node) \(result.state.rawValue)\(result.message.map { ": \($0)" } ?? "")"
        case .success(.finished(let state)): return "rollout \(state.rawValue)"
        case .success(.conflict): return "\(node): the rollout record changed meanwhile; reading it again"
        case .failure(let error): return "\(node): \(error.message)"
        }
    }

    private func log(_ outcome: Result<K3sRolloutAgent.Outcome, K3sRolloutError>?, text: String) {
        switch outcome {
        case .success(.applied(let result)) where result.state != .done:
            logger.error("K3s rollout: this server's change did not succeed", metadata: ["rollout.server.state": "\(result.state.rawValue)", "detail": "\(text)"])
        case .success(.applied), .success(.finished):
            logger.notice("K3s rollout progressed", metadata: ["detail": "\(text)"])
        case .failure:
            logger.warning("K3s rollout: cannot read or write the rollout", metadata: ["detail": "\(text)"])
        default:
            logger.info("K3s rollout state", metadata: ["detail": "\(text)"])
        }
    }
}

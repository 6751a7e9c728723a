import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging
import Synchronization

/// This node's side of rollouts of a K3s change across the cluster's servers: records a request in the cluster,
/// reads the rollout back for status, and builds the agent `K3sRolloutService` steps. Blocking (Kubernetes calls).
struct K3sRollouts: Sendable {
    let operations: HostOperations

    var logger: Logger { operations.logger }
    /// Requests and status reads: not on the host-operations queue, so they answer while this host's K3s restarts.
    private static let threads = BlockingPool(threads: 1)

    func perform<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        try await Self.threads.reply { Result { () throws(APIError) -> T in try body() } }.get()
    }

    /// The Kubernetes API with K3s' admin credentials, read again each time (K3s rewrites them when it starts).
    func client() throws(APIError) -> KubernetesClient {
        let path = operations.configuration().sync.kubeconfig
        do {
            return KubernetesClient(kubeconfig: try Kubeconfig.load(path: path))
        } catch {
            throw APIError(code: .unavailable, message: "cannot reach the cluster: \(error)", hint: "a rollout across servers needs this node's K3s API server")
        }
    }

    /// This node's Node name: `cluster.nodeName`, else K3s' `node-name` (flag, K3S_NODE_NAME or a file), else
    /// the host name in lower case as K3s takes it (k3s pkg/agent/config: getHostnameAndIPs).
    func nodeName() -> String {
        operations.configuration().cluster.nodeName ?? serverNodeName() ?? NodeRole.hostNodeName()
    }

    /// This host's Node name when it runs a K3s server, else nil.
    func serverNodeName() -> String? {
        guard let run = try? operations.k3s().runConfiguration() else { return nil }
        if let name = operations.configuration().cluster.nodeName { return name }
        if let name = (try? run.effective())?.setting("node-name")?.values.last?.value, !name.isEmpty {
            return name
        }
        return NodeRole.hostNodeName()
    }

    /// Records `change` for every server; the caller's level was judged before.
    func start(_ change: K3sDesiredChange) throws(APIError) -> K3sRolloutResponse {
        let client = try client()
        let rollout: K3sRollout
        do {
            rollout = try K3sRolloutRequest.start(change, requestedBy: nodeName(), store: KubernetesRolloutStore(client: client),
                                                  directory: KubernetesServerDirectory(client: client), now: Date())
        } catch {
            throw APIError(code: .conflict, message: "no rollout recorded: \(error.message)", hint: error.hint)
        }
        logger.notice("K3s rollout requested", metadata: [
            "rollout.generation": "\(rollout.generation)", "rollout.change": "\(change.kind.rawValue)",
            "rollout.servers": "\(rollout.servers.map(\.name).joined(separator: ","))",
        ])
        return Self.response(rollout)
    }

    /// Stops the running rollout (`aiosctl k3s rollout abort`); refused when none runs.
    func abort() throws(APIError) -> K3sRolloutResponse {
        let store = KubernetesRolloutStore(client: try client())
        let rollout: K3sRollout
        do {
            rollout = try K3sRolloutAbort.abort(by: nodeName(), store: store, now: Date())
        } catch {
            throw APIError(code: .conflict, message: "nothing aborted: \(error.message)", hint: error.hint)
        }
        logger.notice("K3s rollout aborted", metadata: [
            "rollout.generation": "\(rollout.generation)",
            "rollout.applying": "\(rollout.servers.filter { $0.state == .applying }.map(\.name).joined(separator: ","))",
        ])
        return Self.response(rollout)
    }

    /// The cluster's last rollout, or nil if there was none.
    func current() throws(APIError) -> K3sRolloutResponse? {
        let store = KubernetesRolloutStore(client: try client())
        do throws(K3sRolloutError) {
            return try store.load().map { Self.response($0.rollout) }
        } catch {
            throw APIError(code: .unavailable, message: "cannot read the rollout: \(error.message)", hint: error.hint)
        }
    }

    /// The agent for one step of server `node`, or nil when the cluster cannot be reached from here.
    func agent(node: String) -> K3sRolloutAgent? {
        guard let client = try? client() else { return nil }
        return K3sRolloutAgent(node: node, store: KubernetesRolloutStore(client: client), directory: KubernetesServerDirectory(client: client),
                               lock: KubernetesRestartLock(client: client), local: HostJobChanger(operations: operations),
                               lockDuration: lockDuration)
    }

    /// The restart lock's duration: longer than a change plus its rollback can take (renewed meanwhile).
    var lockDuration: Duration { operations.configuration().k3s.readyTimeout * 2 + .seconds(60) }

    static func response(_ rollout: K3sRollout) -> K3sRolloutResponse {
        K3sRolloutResponse(
            generation: rollout.generation, change: rollout.change.summary, requestedBy: rollout.requestedBy, requestedAt: rollout.requestedAt,
            state: rollout.state.rawValue, finishedAt: rollout.finishedAt,
            servers: rollout.servers.map {
                K3sRolloutResponse.Server(name: $0.name, state: $0.state.rawValue, startedAt: $0.startedAt, finishedAt: $0.finishedAt,
                                          changed: $0.changed, message: $0.message)
            },
            object: "\(K3sRolloutObjects.namespace)/configmap/\(K3sRolloutObjects.configMapName)", abortedBy: rollout.abortedBy)
    }
}

/// A rollout's change on this host as a host job (`aiosctl jobs` lists it), queued behind any other.
struct HostJobChanger: K3sLocalChanger {
    let operations: HostOperations

    func apply(_ change: K3sDesiredChange) -> K3sLocalChangeResult {
        let local = Mutex<K3sLocalChangeResult?>(nil)
        _ = operations.runJob("rollout-" + change.kind.rawValue, touchesK3s: true) { (context) throws(APIError) -> K3sRolloutJobResult in
            let outcome = K3sWorkflowChanger(workflow: operations.k3s(), observer: JobK3sChangeObserver(context: context, logger: operations.logger))
                .apply(change)
            local.withLock { $0 = outcome }
            guard outcome.state == .done else {
                throw APIError(code: outcome.state == .refused ? .badRequest : .operationFailed, message: "\(outcome.state.rawValue): \(outcome.message ?? "")")
            }
            return K3sRolloutJobResult(changed: outcome.changed, message: outcome.message)
        }
        return local.withLock { $0 } ?? K3sLocalChangeResult(state: .failed, message: "the host job did not run")
    }
}

/// What the job of a rollout's part on this host answers (`aiosctl jobs show`).
struct K3sRolloutJobResult: Codable, Sendable {
    var changed: Bool
    var message: String?
}

import FoundationEssentials
import Glibc

/// What this host is in its K3s cluster, as the files K3s' installer leaves show it.
public enum NodeRole: String, Sendable, Equatable {
    /// A K3s server: it runs the API server and has the admin kubeconfig.
    case server
    /// A K3s agent (worker): no API server here, no admin kubeconfig; aiosd changes nothing on the API server.
    case agent
    /// Neither K3s unit nor kubeconfig (K3s not installed yet).
    case none

    public static let unitDirectories = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]

    /// A server has the admin kubeconfig (K3s writes it at start) or `k3s.service` (the installer's server unit);
    /// an agent has `k3s-agent.service` (the installer's agent unit) and no kubeconfig.
    public static func detect(kubeconfig: String, exists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> NodeRole {
        if exists(kubeconfig) || unitDirectories.contains(where: { exists($0 + "/k3s.service") }) { return .server }
        if unitDirectories.contains(where: { exists($0 + "/k3s-agent.service") }) { return .agent }
        return .none
    }

    /// The node's name: K3s' default node name is the host name (`--node-name` overrides it; so does
    /// `cluster.nodeName` in aiosd.yaml).
    public static func hostNodeName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
        return name.isEmpty ? "localhost" : name
    }
}

/// Whether this aiosd takes part in sync leader election, and why.
public enum SyncCandidacy: Sendable, Equatable {
    case candidate
    /// Election off: this aiosd writes as if alone.
    case alone
    case notCandidate(reason: String)

    public static func decide(mode: LeaderElectionSettings.Mode, role: NodeRole) -> SyncCandidacy {
        switch (mode, role) {
        case (.off, _): return .alone
        case (_, .server), (.on, _): return .candidate
        case (.auto, .agent): return .notCandidate(reason: "K3s agent node; cluster.leaderElection.mode: on makes it a candidate")
        case (.auto, .none): return .notCandidate(reason: "no K3s on this host")
        }
    }
}

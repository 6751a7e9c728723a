import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl cluster status [--json]`.
struct ClusterStatusCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List every node's aiosd (role, version, last heartbeat, issuers, ready) and the sync leader.",
        discussion: """
            With --json: {"node", "leader", "leaderSince", "leaseTransitions", "nodes": [{"name", "role", "version", \
            "syncRole", "candidate", "lastHeartbeat", "ready", "issuerConfigured", "issuerServed", "issuerRunning"}], \
            "error"}. A node is ready while its last heartbeat is younger than 40 s. Exits 1 when the cluster's \
            Leases could not be read.
            """)

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> ClusterResponse { try client.call(API.cluster) }

    func render(_ view: ClusterResponse, wide: Bool) -> String { Self.table(view) }

    /// The Leases could not be read.
    func failed(_ view: ClusterResponse) -> Bool { view.error != nil }

    static func table(_ view: ClusterResponse, now: Date = Date()) -> String {
        var lines: [String] = []
        if let error = view.error { lines.append("error: \(error)") }
        if let leader = view.leader {
            let since = view.leaderSince.map { " since \(Output.timestamp($0)) (\(DurationText.relative($0, now: now)))" } ?? ""
            lines.append("sync leader: \(leader)\(since)\(view.leaseTransitions.map { ", \($0) transition(s)" } ?? "")")
        } else {
            lines.append("sync leader: none")
        }
        let header = ["NODE", "ROLE", "VERSION", "READY", "HEARTBEAT", "SYNC", "ISSUER (configured / served / running)"]
        var rows = [header]
        for node in view.nodes {
            let issuers = [node.issuerConfigured, node.issuerServed, node.issuerRunning].map { $0 ?? "-" }.joined(separator: " / ")
            rows.append([node.name + (node.name == view.node ? " (this)" : ""), node.role, node.version, node.ready ? "yes" : "NO",
                         node.lastHeartbeat.map { DurationText.relative($0, now: now) } ?? "-", node.syncRole,
                         node.role == "server" ? issuers : "-"])
        }
        if view.nodes.isEmpty && view.error == nil { lines.append("no aiosd heartbeat in the cluster yet") }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows where !view.nodes.isEmpty {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            lines.append(cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

import AIOSAPI
import AIOSClient
import FoundationEssentials
import Glibc

/// A rollout across the cluster's servers as aiosctl shows it: followed until it ends (one line per server
/// whenever its state changes), or as a table.
enum RolloutProgress {
    /// Records the change with `endpoint` (`allServers` set in `body`), then follows the rollout to its end.
    static func request(_ endpoint: Endpoint, body: [UInt8], global: GlobalOptions) throws {
        do throws(ClientError) {
            let client = global.client(defaultTimeout: 60)
            if global.json {
                let recorded = try client.call(endpoint, body: body)
                Output.printJSON(recorded)
                return
            }
            let recorded = try client.call(endpoint, as: K3sRolloutResponse.self, body: body)
            Output.print("rollout \(recorded.generation) recorded in \(recorded.object): \(recorded.change) on \(recorded.servers.map(\.name).joined(separator: ", "))")
            let finished = try follow(recorded, client: client)
            Output.print(table(finished))
            guard finished.state == "succeeded" else {
                throw ClientError(kind: .failed, message: "the rollout \(finished.state == "running" ? "is still running" : "failed"); the servers after the failed one were not changed",
                                  hint: "see each server's job: aiosctl jobs (on that server); the rollout: aiosctl k3s rollout")
            }
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }

    /// Polls the rollout every second and prints each server's changes of state, until it is no longer running.
    static func follow(_ first: K3sRolloutResponse, client: ControlClient) throws(ClientError) -> K3sRolloutResponse {
        var current = first
        var shown: [String: String] = [:]
        while true {
            guard current.generation == first.generation else {
                throw ClientError(kind: .failed, message: "another rollout (generation \(current.generation)) replaced this one")
            }
            for server in current.servers where shown[server.name] != server.state {
                shown[server.name] = server.state
                if server.state != "pending" || current.servers.first?.name == server.name { Output.print(line(server)) }
            }
            guard current.running else { return current }
            usleep(1_000_000)
            // A server answering through its own K3s may be restarting: a failed read is tried again.
            if let next = try? client.call(.k3sRollout, as: K3sRolloutResponse.self) { current = next }
        }
    }

    static func line(_ server: K3sRolloutResponse.Server) -> String {
        var text = "  \(server.name): \(server.state)"
        if let started = server.startedAt {
            text += server.finishedAt.map { " in \(DurationText.format(seconds: $0.timeIntervalSince(started)))" } ?? " since \(Output.timestamp(started))"
        }
        if server.state == "done" && server.changed == false {
            text += " (nothing to do)"
        } else if let message = server.message {
            text += ": \(message)"
        }
        return text
    }

    static func table(_ rollout: K3sRolloutResponse) -> String {
        var lines = ["rollout \(rollout.generation): \(rollout.change) (requested by \(rollout.requestedBy) at \(Output.timestamp(rollout.requestedAt))): \(rollout.state)"
                        + (rollout.finishedAt.map { " in \(DurationText.format(seconds: $0.timeIntervalSince(rollout.requestedAt)))" } ?? "")]
        var rows = [["SERVER", "STATE", "STARTED", "FINISHED", "DETAIL"]]
        for server in rollout.servers {
            rows.append([server.name, server.state, server.startedAt.map(Output.timestamp) ?? "-", server.finishedAt.map(Output.timestamp) ?? "-",
                         server.state == "done" && server.changed == false ? "nothing to do" : server.message ?? ""])
        }
        lines.append(Output.table(rows))
        return lines.joined(separator: "\n")
    }
}

import AIOSAPI
import AIOSClient
import FoundationEssentials
import Glibc

/// A rollout across the cluster's servers as aiosctl shows it: followed until it ends (one line per server
/// whenever its state changes), or as a table.
enum RolloutProgress {
    /// Records the change with `method` (`allServers` set in `request`), then follows the rollout to its end
    /// (with `-o json|yaml`: the rollout as recorded, not followed).
    static func request<Request>(_ method: APIMethod<Request, K3sRolloutResponse>, _ request: Request, client: ControlClient,
                                 output: CommandOutput) throws(ClientError) -> K3sRolloutResponse {
        let recorded = try client.call(method, request)
        if output.format == .json || output.format == .yaml { return recorded }
        Output.print("rollout \(recorded.generation) recorded in \(recorded.object): \(recorded.change) on \(recorded.servers.map(\.name).joined(separator: ", "))")
        let finished = try follow(recorded, client: client)
        guard finished.state == "succeeded" else {
            Output.print(table(finished))
            let why = finished.state == "running" ? "is still running" : finished.state == "aborted" ? "was aborted on \(finished.abortedBy ?? "?")" : "failed"
            throw ClientError(kind: .failed, message: "the rollout \(why); the servers after \(finished.state == "aborted" ? "that" : "the failed one") were not changed",
                              hint: "see each server's job: aiosctl jobs (on that server); the rollout: aiosctl k3s rollout")
        }
        return finished
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
            if let next = try? client.call(API.k3sRollout) { current = next }
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
                        + (rollout.abortedBy.map { " on \($0)" } ?? "")
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

/// What a K3s change answers: this host's job, or with `--all-servers` the rollout across the servers.
enum K3sChangeOutcome: Encodable {
    case host(K3sChangeResponse)
    case rollout(K3sRolloutResponse)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .host(let response): try response.encode(to: encoder)
        case .rollout(let rollout): try rollout.encode(to: encoder)
        }
    }

    func render(done: String) -> String {
        switch self {
        case .host(let response): Output.summary(response, done: done)
        case .rollout(let rollout): RolloutProgress.table(rollout)
        }
    }
}

/// One of two documents, encoded as itself.
enum OneOf<First: Encodable, Second: Encodable>: Encodable {
    case first(First)
    case second(Second)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .first(let value): try value.encode(to: encoder)
        case .second(let value): try value.encode(to: encoder)
        }
    }
}

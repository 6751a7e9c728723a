import AIOSAPI
@testable import AIOSCtl
import Foundation
import Testing

/// `--all-servers` and `aiosctl k3s rollout`: the flags parse, and each server's line and row say what happened.
@Suite struct RolloutOutputTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func server(_ state: String, changed: Bool?, message: String?) -> K3sRolloutResponse.Server {
        K3sRolloutResponse.Server(name: "srv-2", state: state, startedAt: start, finishedAt: start.addingTimeInterval(7), changed: changed,
                                  message: message)
    }

    @Test func allServersParsesOnEveryChangeCommand() throws {
        #expect(try (AIOSCtlCommand.parseAsRoot(["workload-identity", "enable", "--issuer", "https://x.example/", "--all-servers"])
                     as? WorkloadIdentityEnableCommand)?.allServers == true)
        #expect(try (AIOSCtlCommand.parseAsRoot(["workload-identity", "disable", "--all-servers"]) as? WorkloadIdentityDisableCommand)?.allServers == true)
        #expect(try (AIOSCtlCommand.parseAsRoot(["k3s", "apiserver-arg", "set", "v=2", "--all-servers"]) as? APIServerArgSetCommand)?.allServers == true)
        #expect(try (AIOSCtlCommand.parseAsRoot(["k3s", "apiserver-arg", "unset", "v", "--all-servers"]) as? APIServerArgUnsetCommand)?.allServers == true)
        #expect(try (AIOSCtlCommand.parseAsRoot(["k3s", "rollout", "--follow"]) as? K3sRolloutShowCommand)?.follow == true)
        #expect(try (AIOSCtlCommand.parseAsRoot(["workload-identity", "status", "--all-servers"]) as? WorkloadIdentityStatusCommand)?.allServers == true)
    }

    @Test func aServerThatRolledBackShowsWhyNotNothingToDo() {
        let line = RolloutProgress.line(server("rolled-back", changed: false, message: "k3s.service did not restart; rolled back: ..."))
        #expect(line == "  srv-2: rolled-back in 7.0s: k3s.service did not restart; rolled back: ...")
        #expect(RolloutProgress.line(server("done", changed: false, message: "nothing to do: 90-aios.yaml already says this"))
                == "  srv-2: done in 7.0s (nothing to do)")
        #expect(RolloutProgress.line(server("done", changed: true, message: "the API server serves https://x.example/"))
                == "  srv-2: done in 7.0s: the API server serves https://x.example/")
    }

    @Test func theTableHasARowPerServer() {
        let rollout = K3sRolloutResponse(generation: 3, change: "workload-identity disable", requestedBy: "srv-1", requestedAt: start,
                                         state: "failed", finishedAt: start.addingTimeInterval(13),
                                         servers: [server("done", changed: false, message: nil), server("refused", changed: nil, message: "no"),
                                                   K3sRolloutResponse.Server(name: "srv-3", state: "pending", startedAt: nil, finishedAt: nil,
                                                                             changed: nil, message: nil)],
                                         object: "kube-system/configmap/aios-rollout")
        let table = RolloutProgress.table(rollout)
        #expect(table.hasPrefix("rollout 3: workload-identity disable (requested by srv-1 at "))
        #expect(table.contains("): failed in 13s"))
        let rows = table.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.map { Array($0.prefix(2)) } == [["srv-2", "done"], ["srv-2", "refused"], ["srv-3", "pending"]])
        #expect(rows[0].suffix(3) == ["nothing", "to", "do"] && rows[1].last == "no" && rows[2].suffix(2) == ["-", "-"])
    }
}

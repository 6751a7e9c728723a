import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl doctor`: the host's prerequisites, one line per check, each problem with the command that fixes it.
struct DoctorCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this host's prerequisites: config, K3s, the issuer, Entra ID, the vaults, the clock, disk space, SecretSyncs.",
        discussion: """
            One line per check: ok, warn or FAIL, what was found, and for a problem the command that fixes it \
            with this host's values filled in. Exits 1 when any check fails (warnings do not), 0 otherwise. \
            --json prints {"ok", "findings": [{"check", "status", "detail", "fix"}]}.
            """)

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> DoctorResponse { try client.call(API.doctor) }

    func render(_ response: DoctorResponse, wide: Bool) -> String { Self.render(response) }

    func failed(_ response: DoctorResponse) -> Bool { !response.ok }

    static func render(_ response: DoctorResponse) -> String {
        let width = response.findings.map(\.check.count).max() ?? 0
        var lines: [String] = []
        for finding in response.findings {
            let mark = finding.status == .fail ? "FAIL" : finding.status.rawValue
            lines.append("\(mark.padding(4))  \(finding.check.padding(width))  \(finding.detail)")
            if let fix = finding.fix, finding.status != .ok { lines.append("      \(String(repeating: " ", count: width))  fix: \(fix)") }
        }
        let failed = response.findings.filter { $0.status == .fail }.count
        let warned = response.findings.filter { $0.status == .warn }.count
        lines.append(failed == 0 ? "all checks passed\(warned > 0 ? " (\(warned) warning(s))" : "")" : "\(failed) check(s) failed")
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

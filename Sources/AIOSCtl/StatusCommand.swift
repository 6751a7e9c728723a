import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl status`: what aiosd is doing.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's state: version, uptime, configuration, socket, systemd integration and services.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client
        do {
            if global.json {
                Output.printJSON(try client.call(.status))
                return
            }
            Output.print(Self.summary(try client.call(.status, as: StatusResponse.self)))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }

    static func summary(_ status: StatusResponse) -> String {
        var lines = ["aiosd \(status.version), pid \(status.pid), up \(Output.duration(seconds: status.uptimeSeconds))"]
        lines.append("config:   \(status.configPath) (loaded \(Output.timestamp(status.configLoadedAt)))")
        if let reload = status.lastReload, !reload.accepted {
            lines.append("          last reload refused at \(Output.timestamp(reload.at)): \(reload.error ?? "invalid")")
        }
        lines.append("socket:   \(status.socketPath)\(status.socketActivated ? " (socket-activated)" : "")")
        var systemd = status.underSystemd ? "yes" : "no"
        if let watchdog = status.watchdogSeconds { systemd += ", watchdog \(Output.duration(seconds: watchdog))" }
        lines.append("systemd:  \(systemd)")
        lines.append("services:")
        let width = status.services.map(\.name.count).max() ?? 0
        for service in status.services {
            let name = service.name.padded(to: width)
            let state = service.state.rawValue.padded(to: 8)
            lines.append("  \(name)  \(state)  \(service.detail ?? "")".trimmingTrailingSpaces())
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

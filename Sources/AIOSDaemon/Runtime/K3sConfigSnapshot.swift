import AIOSAPI
import AIOSCore
import AIOSSystemd

/// The K3s configuration as read right now: files, the unit's command line (over D-Bus), and their merge.
/// Blocking; run it on the host-operations queue.
struct K3sConfigSnapshot {
    var configPath: String
    var unit: String
    var unitLoaded: Bool
    var commandLine: [String]
    var perFile: [(path: String, settings: K3sEffectiveConfiguration)]
    var effective: K3sEffectiveConfiguration
    /// The texts it was merged from, to compute what an edit of the agent's drop-in would lead to.
    var files: [(path: String, text: String)]
    var environment: [(path: String, text: String)]

    /// The issuer the API server will serve once the agent's drop-in says `dropIn` (nil: removed).
    func issuer(withDropIn dropIn: String?) throws(APIError) -> String {
        var edited = files.filter { $0.path != AgentDropIn.path }
        if let dropIn { edited.append((AgentDropIn.path, dropIn)) }
        // config.yaml first, then the drop-ins by name: K3s' reading order.
        edited.sort { ($0.path == configPath ? "" : $0.path) < ($1.path == configPath ? "" : $1.path) }
        do {
            let merged = try K3sConfigMerger().merge(files: edited, environment: environment, commandLine: commandLine)
            return WorkloadIdentityPlanner.firstIssuer(in: merged)
        } catch {
            throw APIError(code: .configInvalid, message: "K3s would not accept its configuration: \(error)")
        }
    }

    static func read(configPath: String = K3sConfigReader.defaultConfigPath, unit: String = K3sDefaults.unit) throws(APIError) -> K3sConfigSnapshot {
        let files: [(path: String, text: String)]
        var environment: [(path: String, text: String)] = []
        do {
            files = try K3sConfigReader.read(configPath: configPath)
            for path in K3sEnvironment.defaultFiles {
                do {
                    if let text = try SecureFileReader.readIfPresent(path: path, maximumBytes: 1 << 20) { environment.append((path, text)) }
                } catch {
                    throw ConfigurationError(file: path, message: error.description)
                }
            }
        } catch let error as ConfigurationError {
            throw APIError(code: .configInvalid, message: "cannot read the K3s configuration: \(error)")
        } catch {
            throw APIError(code: .internalError, message: "\(error)")
        }
        var loaded = false
        var commandLine: [String] = []
        do {
            let systemd = try SystemdManager()
            loaded = try systemd.isLoaded(unit)
            if loaded { commandLine = try systemd.execStart(of: unit) ?? [] }
        } catch {
            throw HostOperations.apiError(error, doing: "read \(unit)'s command line")
        }
        let merger = K3sConfigMerger()
        do {
            var perFile = try files.map { file in (path: file.path, settings: try merger.merge(files: [file])) }
            perFile += try environment.map { file in (path: file.path, settings: try merger.merge(files: [], environment: [file])) }
            let effective = try merger.merge(files: files, environment: environment, commandLine: commandLine,
                                             commandLineSource: "ExecStart of \(unit)")
            return K3sConfigSnapshot(configPath: configPath, unit: unit, unitLoaded: loaded, commandLine: commandLine,
                                     perFile: perFile, effective: effective, files: files, environment: environment)
        } catch let error as ConfigurationError {
            throw APIError(code: .configInvalid, message: "K3s would not accept its configuration: \(error)",
                           hint: "fix \(error.file), then check again with: aiosctl k3s config")
        } catch {
            throw APIError(code: .internalError, message: "\(error)")
        }
    }
}

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
        } catch let error as SystemdError {
            throw HostOperations.apiError(error, doing: "read \(unit)'s command line")
        } catch {
            throw APIError(code: .internalError, message: "\(error)")
        }
        let merger = K3sConfigMerger()
        do {
            var perFile = try files.map { file in (path: file.path, settings: try merger.merge(files: [file])) }
            perFile += try environment.map { file in (path: file.path, settings: try merger.merge(files: [], environment: [file])) }
            let effective = try merger.merge(files: files, environment: environment, commandLine: commandLine,
                                             commandLineSource: "ExecStart of \(unit)")
            return K3sConfigSnapshot(configPath: configPath, unit: unit, unitLoaded: loaded, commandLine: commandLine,
                                     perFile: perFile, effective: effective)
        } catch let error as ConfigurationError {
            throw APIError(code: .configInvalid, message: "K3s would not accept its configuration: \(error)",
                           hint: "fix \(error.file), then check again with: aiosctl k3s config")
        } catch {
            throw APIError(code: .internalError, message: "\(error)")
        }
    }
}

import AIOSCore
import Foundation

/// An in-memory host for the K3s change workflow: files, a K3s unit whose "start" reads its configuration
/// files the simple way (every `service-account-issuer=` element in reading order), and its API server.
/// Faults are switched on per test.
final class FakeK3sHost: K3sUnitControl, K3sAPIServerProbe, K3sFileAccess, @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String: String]
    var units: [String: K3sUnitDescription]
    /// Directories the workflow may not write (the sandbox).
    var readOnly: Set<String> = []
    /// Writes to these paths fail (disk full, I/O error).
    var failingWrites: Set<String> = []
    /// The unit fails to start while a configuration file contains this text (a flag kube-apiserver rejects).
    var rejectedText: String? = "profiling=maybe"
    /// The API server never answers /readyz while a configuration file contains this text.
    var neverReadyText: String?
    /// Serves this issuer instead of the configured one while a file contains the key.
    var wrongIssuer: (whenFileContains: String, served: String)?
    /// Every restart fails.
    var restartsFail = false
    private(set) var restarts = 0
    private(set) var running = false
    private(set) var runningIssuers: [String] = []
    var journalLines: [String] = []
    /// Called before a file is removed: a test takes the disk's state there (a crash just before the removal).
    var beforeRemove: (String) -> Void = { _ in }

    static let config = "/etc/rancher/k3s/config.yaml"
    static let dropIn = "/etc/rancher/k3s/config.yaml.d/90-aios.yaml"
    static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"

    init(files: [String: String] = [config: "write-kubeconfig-mode: \"0644\"\n"],
         unit: K3sUnitDescription? = K3sUnitDescription(name: "k3s.service", commandLine: ["/usr/local/bin/k3s", "server"])) {
        storage = files
        units = unit.map { [$0.name: $0] } ?? [:]
        running = unit != nil
        runningIssuers = issuersInFiles()
    }

    var files: [String: String] { lock.withLock { storage } }

    func workflow(readyTimeout: Duration = .milliseconds(200)) -> K3sChangeWorkflow {
        K3sChangeWorkflow(unit: self, probe: self, files: self, stateDirectory: "/var/lib/aiosd", readyTimeout: readyTimeout,
                          pollInterval: .milliseconds(5))
    }

    // MARK: K3sFileAccess

    func read(_ path: String) throws(K3sChangeError) -> String? { lock.withLock { storage[path] } }

    func list(_ directory: String) -> [String] {
        lock.withLock { storage.keys.filter { $0.hasPrefix(directory + "/") }.map { String($0.dropFirst(directory.count + 1)) }.filter { !$0.contains("/") } }
    }

    func write(_ text: String, to path: String) throws(K3sChangeError) {
        if failingWrites.contains(path) {
            throw K3sChangeError(.failed, "cannot write \(path): No space left on device", hint: "free space on /etc")
        }
        lock.withLock { storage[path] = text }
    }

    func remove(_ path: String) throws(K3sChangeError) {
        beforeRemove(path)
        if failingWrites.contains(path) { throw K3sChangeError(.failed, "cannot remove \(path): Input/output error") }
        _ = lock.withLock { storage.removeValue(forKey: path) }
    }

    func unwritableReason(_ directory: String) -> String? {
        readOnly.contains { directory.hasPrefix($0) } ? "\(directory) is read-only for aiosd" : nil
    }

    // MARK: K3sUnitControl

    func describe(_ unit: String) throws(K3sChangeError) -> K3sUnitDescription? { units[unit] }

    func restart(_ unit: String, timeout: Duration) throws(K3sChangeError) -> K3sRestartOutcome {
        restarts += 1
        let texts = Array(files.values)
        if restartsFail || rejectedText.map({ bad in texts.contains { $0.contains(bad) } }) == true || Self.duplicate(issuersInFiles()) {
            running = false
            return K3sRestartOutcome(succeeded: false, detail: "job failed, unit activating/auto-restart, result exit-code")
        }
        running = true
        runningIssuers = issuersInFiles()
        let expiration = elements("service-account-max-token-expiration=").last.map { " --service-account-max-token-expiration=\($0)" } ?? ""
        journalLines.append("time=\"2026-11-30T14:00:00Z\" level=info msg=\"Running kube-apiserver --advertise-address=127.0.0.1 "
            + runningIssuers.map { "--service-account-issuer=\($0)" }.joined(separator: " ") + expiration + "\"")
        return K3sRestartOutcome(succeeded: true, detail: "job done, pid \(1000 + restarts)")
    }

    func runningAPIServerArguments(_ unit: String) -> [String]? {
        journalLines.last.flatMap(KubeAPIServerArguments.parseRunningLine)
    }

    // MARK: K3sAPIServerProbe

    func isReady() -> Bool {
        guard running else { return false }
        if let text = neverReadyText, files.values.contains(where: { $0.contains(text) }) { return false }
        return true
    }

    func servedIssuer() throws(K3sChangeError) -> String {
        guard running else { throw K3sChangeError(.failed, "cannot reach the API server at https://127.0.0.1:6443: connection refused") }
        if let wrong = wrongIssuer, files.values.contains(where: { $0.contains(wrong.whenFileContains) }) { return wrong.served }
        return runningIssuers.first ?? Self.defaultIssuer
    }

    // MARK: the fake K3s' own reading of its files

    /// K3s' configuration file: K3S_CONFIG_FILE, else `--config`/`-c` on the command line, else the default.
    var configPath: String {
        guard let unit = units["k3s.service"] else { return Self.config }
        if let file = unit.environment.last(where: { $0.hasPrefix("K3S_CONFIG_FILE=") }).map({ String($0.dropFirst("K3S_CONFIG_FILE=".count)) }) {
            return file
        }
        if let index = unit.commandLine.firstIndex(where: { $0 == "-c" || $0 == "--config" }), index + 1 < unit.commandLine.count {
            return unit.commandLine[index + 1]
        }
        return Self.config
    }

    /// The values of every `prefix...` element in K3s' reading order (the file, then its drop-ins by name),
    /// found by plain text search, independent of the merger under test.
    func elements(_ prefix: String) -> [String] {
        let files = self.files, config = configPath
        let order = files.keys.filter { $0 == config || $0.hasPrefix(config + ".d/") }.sorted { ($0 == config ? "" : $0) < ($1 == config ? "" : $1) }
        var values: [String] = []
        for path in order {
            for line in files[path]!.split(separator: "\n") {
                guard let range = line.range(of: prefix) else { continue }
                values.append(String(line[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\" ")))
            }
        }
        return values
    }

    /// Every `service-account-issuer=` element, or K3s' default when there is none.
    func issuersInFiles() -> [String] {
        let issuers = elements("service-account-issuer=")
        return issuers.isEmpty ? [Self.defaultIssuer] : issuers
    }

    static func duplicate(_ issuers: [String]) -> Bool { Set(issuers).count != issuers.count }
}

/// Records the steps; `onStepFinished` lets a test take the disk's state at that moment (a crash right after it).
final class RecordingObserver: K3sChangeObserver, @unchecked Sendable {
    private(set) var started: [String] = []
    private(set) var finished: [K3sChangeStep] = []
    private(set) var k3sFailures = 0
    var onStepFinished: (K3sChangeStep) -> Void = { _ in }

    func stepStarted(_ name: String) { started.append(name) }

    func stepFinished(_ step: K3sChangeStep) {
        finished.append(step)
        onStepFinished(step)
    }

    func k3sFailed() { k3sFailures += 1 }
}

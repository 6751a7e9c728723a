import AIOSCore
import Testing

/// Every path of the K3s change workflow against an in-memory host: milliseconds, no containers.
@Suite struct K3sChangeWorkflowTests {
    let arc = "https://eastus.oic.prod-arc.azure.com/tenant/uuid/"
    let config = FakeK3sHost.config
    let dropIn = FakeK3sHost.dropIn
    let record = "/var/lib/aiosd/k3s-transaction.json"
    let lastWritten = "/var/lib/aiosd/k3s-dropin.last"

    var enabledText: String {
        AgentDropIn.render([
            APIServerArgument(name: "service-account-issuer", value: arc),
            APIServerArgument(name: "service-account-issuer", value: FakeK3sHost.defaultIssuer),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ])
    }

    func refusal(_ body: () throws(K3sChangeError) -> K3sChangeWorkflow.Outcome) -> K3sChangeError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: success and nothing to do

    @Test func enableWritesRestartsOnceAndVerifies() throws {
        let host = FakeK3sHost()
        let observer = RecordingObserver()
        let outcome = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: observer)
        #expect(outcome.changed && outcome.servedIssuer == arc)
        #expect(host.files[dropIn] == enabledText)
        #expect(host.restarts == 1)
        #expect(observer.finished.map(\.name) == ["record transaction", "write \(dropIn)", "restart k3s.service", "wait for /readyz",
                                                   "verify the served issuer"])
        #expect(observer.finished.allSatisfy { $0.ok })
        #expect(host.files[record] == nil, "the transaction record is gone")
        #expect(host.files[lastWritten] == enabledText, "what aiosd wrote is remembered")
    }

    @Test func enablingAgainDoesNothing() throws {
        let host = FakeK3sHost()
        _ = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        let again = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        #expect(!again.changed && again.steps.isEmpty)
        #expect(host.restarts == 1)
    }

    @Test func issuerAlreadySetByHandToTheSameURLIsNothingToDo() throws {
        let hand = "kube-apiserver-arg:\n  - service-account-issuer=\(arc)\n  - service-account-max-token-expiration=24h\n"
        let host = FakeK3sHost(files: [config: hand])
        let outcome = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        #expect(!outcome.changed)
        #expect(host.restarts == 0)
        #expect(host.files == [config: hand])
    }

    @Test func disableRemovesOnlyTheAgentsIssuerEntries() throws {
        let host = FakeK3sHost()
        _ = try host.workflow().editAPIServerArguments(set: [APIServerArgument(name: "audit-log-maxage", value: "30")], unset: [], force: false,
                                                       observer: RecordingObserver())
        _ = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        let outcome = try host.workflow().disableWorkloadIdentity(force: false, observer: RecordingObserver())
        #expect(outcome.servedIssuer == FakeK3sHost.defaultIssuer)
        #expect(host.files[dropIn] == AgentDropIn.render([APIServerArgument(name: "audit-log-maxage", value: "30")]))
        _ = try host.workflow().editAPIServerArguments(set: [], unset: ["audit-log-maxage"], force: false, observer: RecordingObserver())
        #expect(host.files[dropIn] == nil && host.files[lastWritten] == nil, "an empty drop-in is removed")
        #expect(host.restarts == 4)
    }

    @Test func followsK3SConfigFileFromTheUnitsEnvironment() throws {
        let unit = K3sUnitDescription(name: "k3s.service", commandLine: ["/usr/local/bin/k3s", "server"],
                                      environment: ["K3S_CONFIG_FILE=/etc/k3s/server.yaml"])
        let host = FakeK3sHost(files: ["/etc/k3s/server.yaml": "tls-san: edge\n"], unit: unit)
        let outcome = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        #expect(outcome.dropIn == "/etc/k3s/server.yaml.d/90-aios.yaml")
        #expect(host.files["/etc/k3s/server.yaml.d/90-aios.yaml"] == enabledText)
        #expect(host.files[dropIn] == nil, "nothing under the default path K3s does not read")
    }

    @Test func followsConfigOnTheCommandLine() throws {
        let unit = K3sUnitDescription(name: "k3s.service", commandLine: ["/usr/local/bin/k3s", "server", "-c", "/srv/k3s.yaml"])
        let host = FakeK3sHost(files: [:], unit: unit)
        let outcome = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        #expect(outcome.dropIn == "/srv/k3s.yaml.d/90-aios.yaml")
    }

    /// K3s looks at K3S_CONFIG_FILE before its command line (pkg/configfilearg/parser.go, findConfigFileFlag).
    @Test func k3sConfigFileInTheEnvironmentWinsOverConfigOnTheCommandLine() throws {
        let unit = K3sUnitDescription(name: "k3s.service", commandLine: ["/usr/local/bin/k3s", "server", "--config", "/srv/k3s.yaml"],
                                      environment: ["K3S_CONFIG_FILE=/etc/k3s/server.yaml"])
        let host = FakeK3sHost(files: ["/etc/k3s/server.yaml": "tls-san: edge\n"], unit: unit)
        let outcome = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        #expect(outcome.dropIn == "/etc/k3s/server.yaml.d/90-aios.yaml")
        #expect(host.files["/srv/k3s.yaml.d/90-aios.yaml"] == nil, "nothing where K3s does not read")
    }

    // MARK: refusals: nothing written, nothing restarted

    func expectRefusedUntouched(_ host: FakeK3sHost, contains text: String, sourceLocation: SourceLocation = #_sourceLocation,
                                _ body: (K3sChangeWorkflow) throws(K3sChangeError) -> K3sChangeWorkflow.Outcome) {
        let before = host.files
        let error = refusal { () throws(K3sChangeError) in try body(host.workflow()) }
        #expect(error?.kind == .refused, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.message.contains(text) == true, "\(error?.message ?? "no error")", sourceLocation: sourceLocation)
        #expect(host.files == before, sourceLocation: sourceLocation)
        #expect(host.restarts == 0, sourceLocation: sourceLocation)
    }

    @Test func refusesWithoutK3s() {
        expectRefusedUntouched(FakeK3sHost(files: [:], unit: nil), contains: "K3s is not installed") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
    }

    @Test func refusesOnAnAgentNode() {
        let agent = K3sUnitDescription(name: "k3s-agent.service", commandLine: ["/usr/local/bin/k3s", "agent"])
        expectRefusedUntouched(FakeK3sHost(files: [:], unit: agent), contains: "K3s agent (worker) node") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
        let renamed = K3sUnitDescription(name: "k3s.service", commandLine: ["/usr/local/bin/k3s", "agent", "--server", "https://10.0.0.1:6443"])
        expectRefusedUntouched(FakeK3sHost(files: [:], unit: renamed), contains: "not `k3s server`") { workflow throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "v", value: "2")], unset: [], force: false, observer: RecordingObserver())
        }
    }

    @Test func refusesALaterDropInReplacingTheListOnAFirstEnable() {
        let host = FakeK3sHost(files: [config: "", "/etc/rancher/k3s/config.yaml.d/99-site.yaml": "kube-apiserver-arg:\n  - audit-log-maxage=30\n"])
        expectRefusedUntouched(host, contains: "/etc/rancher/k3s/config.yaml.d/99-site.yaml sets kube-apiserver-arg without '+'") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
    }

    @Test func refusesWhenTheCommandLineOverridesTheFiles() {
        let unit = K3sUnitDescription(name: "k3s.service", commandLine: ["k3s", "server", "--kube-apiserver-arg=v=2"])
        expectRefusedUntouched(FakeK3sHost(unit: unit), contains: "set on K3s' command line") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
    }

    @Test func neverDropsSettingsTheAgentDidNotWrite() {
        let hand = "# site settings\ntls-san: edge.example\nkube-apiserver-arg+:\n  - \"v=2\"\n"
        expectRefusedUntouched(FakeK3sHost(files: [config: "", dropIn: hand]), contains: "settings aiosd did not write (tls-san)") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: true, observer: RecordingObserver())
        }
    }

    @Test func handEditsAreRefusedUnlessForced() throws {
        let host = FakeK3sHost()
        _ = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        let edited = enabledText.replacingOccurrences(of: "24h", with: "12h")
        try host.write(edited, to: dropIn)
        expectRestartsUnchanged(host) {
            expectRefusedAfter(host, contains: "edited by hand since aiosd last wrote it") { workflow throws(K3sChangeError) in
                try workflow.editAPIServerArguments(set: [APIServerArgument(name: "v", value: "2")], unset: [], force: false, observer: RecordingObserver())
            }
        }
        #expect(host.files[dropIn] == edited)
        let forced = try host.workflow().editAPIServerArguments(set: [APIServerArgument(name: "v", value: "2")], unset: [], force: true,
                                                                observer: RecordingObserver())
        #expect(forced.changed)
        #expect(host.files[dropIn]?.contains("service-account-max-token-expiration=12h") == true, "forced: the hand-edited entries are kept as entries")
    }

    func expectRestartsUnchanged(_ host: FakeK3sHost, _ body: () -> Void) {
        let restarts = host.restarts
        body()
        #expect(host.restarts == restarts)
    }

    func expectRefusedAfter(_ host: FakeK3sHost, contains text: String,
                            _ body: (K3sChangeWorkflow) throws(K3sChangeError) -> K3sChangeWorkflow.Outcome) {
        let error = refusal { () throws(K3sChangeError) in try body(host.workflow()) }
        #expect(error?.kind == .refused && error?.message.contains(text) == true, "\(String(describing: error))")
    }

    @Test func refusesADuplicateIssuerKubeAPIServerWouldReject() {
        let host = FakeK3sHost(files: [config: "kube-apiserver-arg:\n  - service-account-issuer=\(arc)\n"])
        expectRefusedUntouched(host, contains: "already specified") { workflow throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "service-account-issuer", value: arc)], unset: [], force: false,
                                                observer: RecordingObserver())
        }
    }

    @Test func refusesUpFrontWhenTheDirectoryIsReadOnlyForAiosd() {
        let host = FakeK3sHost()
        host.readOnly = ["/etc/rancher/k3s"]
        expectRefusedUntouched(host, contains: "aiosd cannot write /etc/rancher/k3s/config.yaml.d") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
    }

    @Test func refusesBadInputBeforeTouchingAnything() {
        expectRefusedUntouched(FakeK3sHost(), contains: "must be an https:// URL") { workflow throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: "http://plain.example/", maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
        expectRefusedUntouched(FakeK3sHost(), contains: "not a kube-apiserver flag") { workflow throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "audit-log-maxag", value: "1")], unset: [], force: false,
                                                observer: RecordingObserver())
        }
    }

    // MARK: failures

    @Test func aFailedWriteRestartsNothingAndKeepsItsHint() {
        let host = FakeK3sHost()
        host.failingWrites = [dropIn]
        let error = refusal { () throws(K3sChangeError) in
            try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
        #expect(error?.kind == .failed)
        #expect(error?.message.contains("nothing was changed and K3s was not restarted") == true)
        #expect(error?.hint == "free space on /etc")
        #expect(host.restarts == 0)
        #expect(host.files[dropIn] == nil && host.files[record] == nil)
    }

    func expectRolledBack(_ host: FakeK3sHost, restarts: Int = 2, message: String, sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: (K3sChangeWorkflow, K3sChangeObserver) throws(K3sChangeError) -> K3sChangeWorkflow.Outcome) {
        let before = host.files[dropIn]
        let observer = RecordingObserver()
        let error = refusal { () throws(K3sChangeError) in try body(host.workflow(), observer) }
        #expect(error?.kind == .failed, sourceLocation: sourceLocation)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
        #expect(error?.message.contains("rolled back: the previous \(dropIn) is restored") == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
        #expect(host.files[dropIn] == before, "the previous drop-in, byte for byte", sourceLocation: sourceLocation)
        #expect(host.files[record] == nil, sourceLocation: sourceLocation)
        #expect(host.restarts == restarts, sourceLocation: sourceLocation)
        #expect(observer.k3sFailures == 1, "K3s' journal is kept before the rollback restarts it", sourceLocation: sourceLocation)
        #expect(observer.finished.last?.name == "rollback: verify the served issuer", sourceLocation: sourceLocation)
    }

    @Test func aRestartFailureRollsBack() {
        let host = FakeK3sHost()
        expectRolledBack(host, message: "k3s.service did not restart: job failed") { workflow, observer throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "profiling", value: "maybe")], unset: [], force: false, observer: observer)
        }
    }

    @Test func aReadyTimeoutRollsBackWithinTheConfiguredTimeout() {
        let host = FakeK3sHost()
        host.neverReadyText = "audit-log-maxage"
        let start = ContinuousClock.now
        expectRolledBack(host, message: "not ready within 200ms (k3s.readyTimeout)") { workflow, observer throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "audit-log-maxage", value: "30")], unset: [], force: false, observer: observer)
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func aWrongServedIssuerRollsBack() {
        let host = FakeK3sHost()
        host.wrongIssuer = (arc, "https://someone.else/")
        expectRolledBack(host, message: "the API server serves issuer https://someone.else/, expected \(arc)") { workflow, observer throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: observer)
        }
    }

    @Test func rollbackVerifiesTheIssuerConfiguredElsewhere() throws {
        // The previous issuer comes from config.yaml, not the drop-in: the rollback must expect it, not K3s' default.
        let host = FakeK3sHost(files: [config: "kube-apiserver-arg+:\n  - service-account-issuer=\(arc)\n"])
        expectRolledBack(host, message: "did not restart") { workflow, observer throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "profiling", value: "maybe")], unset: [], force: false, observer: observer)
        }
        #expect(try host.servedIssuer() == arc)
    }

    @Test func aFailedRollbackSaysSo() {
        let host = FakeK3sHost()
        host.restartsFail = true
        let error = refusal { () throws(K3sChangeError) in
            try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        }
        #expect(error?.kind == .failed)
        #expect(error?.message.contains("the rollback failed too: k3s.service did not restart") == true, "\(error?.message ?? "")")
        #expect(host.files[dropIn] == nil, "the previous (absent) drop-in is restored all the same")
        #expect(host.restarts == 2)
    }

    // MARK: crash after each step, recovery at the next start (rolled back; kept once verified)

    func crashAfterEachStep(_ change: (K3sChangeWorkflow, K3sChangeObserver) throws(K3sChangeError) -> K3sChangeWorkflow.Outcome,
                            setUp: (FakeK3sHost) throws -> Void = { _ in }, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let probe = FakeK3sHost()
        try setUp(probe)
        let original = probe.files
        let observer = RecordingObserver()
        var disks: [(step: String, files: [String: String])] = []
        observer.onStepFinished = { step in disks.append((step.name, probe.files)) }
        var beforeRecordRemoved: [String: String]?
        probe.beforeRemove = { path in if path == record { beforeRecordRemoved = probe.files } }
        _ = try change(probe.workflow(), observer)
        #expect(disks.count == 5, sourceLocation: sourceLocation)
        // Verified, then a crash before the record is removed: the next start keeps the change, restarts nothing.
        let changed = probe.files
        let verified = FakeK3sHost(files: try #require(beforeRecordRemoved, sourceLocation: sourceLocation))
        let finished = verified.workflow().recoverInterruptedChange(observer: RecordingObserver())
        #expect(finished?.succeeded == true && finished?.keptVerifiedChange == true, "\(finished?.message ?? "no recovery")", sourceLocation: sourceLocation)
        #expect(verified.files == changed, "the verified change is kept as it is and the record is gone", sourceLocation: sourceLocation)
        #expect(verified.restarts == 0, sourceLocation: sourceLocation)
        for disk in disks {
            let restarted = FakeK3sHost(files: disk.files)
            let recovery = restarted.workflow().recoverInterruptedChange(observer: RecordingObserver())
            if disk.files[record] == nil {
                #expect(recovery == nil, "after \(disk.step): nothing to recover", sourceLocation: sourceLocation)
                continue
            }
            #expect(recovery?.succeeded == true, "after \(disk.step): \(recovery?.message ?? "")", sourceLocation: sourceLocation)
            #expect(restarted.files[dropIn] == original[dropIn], "after \(disk.step): the previous drop-in is back", sourceLocation: sourceLocation)
            #expect(restarted.files[record] == nil, sourceLocation: sourceLocation)
            #expect(restarted.restarts == 1, sourceLocation: sourceLocation)
            #expect(try restarted.servedIssuer() == restarted.issuersInFiles()[0], sourceLocation: sourceLocation)
        }
    }

    @Test func crashDuringEnableIsRolledBackOrKeptIfVerified() throws {
        try crashAfterEachStep { workflow, observer throws(K3sChangeError) in
            try workflow.enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: observer)
        }
    }

    @Test func crashDuringAnAPIServerArgEditIsRolledBackOrKeptIfVerified() throws {
        try crashAfterEachStep({ workflow, observer throws(K3sChangeError) in
            try workflow.editAPIServerArguments(set: [APIServerArgument(name: "audit-log-maxage", value: "30")], unset: [], force: false, observer: observer)
        }, setUp: { host in
            _ = try host.workflow().enableWorkloadIdentity(issuer: arc, maxTokenExpiration: nil, force: false, observer: RecordingObserver())
        })
    }

    @Test func noRecordNoRecovery() {
        #expect(FakeK3sHost().workflow().recoverInterruptedChange(observer: RecordingObserver()) == nil)
    }

    // MARK: status

    @Test func statusShowsARestartPendingUntilK3sRestarts() throws {
        let host = FakeK3sHost()
        host.journalLines = ["time=\"t\" level=info msg=\"Running kube-apiserver --service-account-issuer=\(FakeK3sHost.defaultIssuer)\""]
        try host.write(enabledText, to: dropIn)
        let pending = try host.workflow().issuerStatus()
        #expect(pending.configuredIssuers.map(\.value) == [arc, FakeK3sHost.defaultIssuer])
        #expect(pending.configuredIssuers[0].from == "\(dropIn):6")
        #expect(pending.runningIssuers == [FakeK3sHost.defaultIssuer])
        #expect(pending.restartPending)
        _ = try host.restart("k3s.service", timeout: .seconds(1))
        let applied = try host.workflow().issuerStatus()
        #expect(applied.runningIssuers == [arc, FakeK3sHost.defaultIssuer])
        #expect(applied.servedIssuer == arc)
        #expect(!applied.restartPending)
    }

    @Test func statusOfAPlainClusterIsK3sDefault() throws {
        let status = try FakeK3sHost().workflow().issuerStatus()
        #expect(status.configuredIssuers == [K3sIssuerStatus.Value(value: FakeK3sHost.defaultIssuer, from: "K3s default")])
    }
}

@Suite struct KubeAPIServerArgumentsTests {
    @Test func parsesK3sRunningLineAsLogrusWritesIt() {
        let line = #"time="2026-11-30T14:00:00Z" level=info msg="Running kube-apiserver --advertise-address=10.0.0.4 --service-account-issuer=https://a/ --service-account-issuer=https://kubernetes.default.svc.cluster.local --audit-policy-file=/x\"y""#
        #expect(KubeAPIServerArguments.parseRunningLine(line) == [
            "--advertise-address=10.0.0.4", "--service-account-issuer=https://a/",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local", "--audit-policy-file=/x\"y",
        ])
        #expect(KubeAPIServerArguments.parseRunningLine("level=info msg=\"Running kubelet --v=2\"") == nil)
    }

    @Test func getArgsSemanticsForTheIssuer() {
        let initial = "https://kubernetes.default.svc.cluster.local"
        func values(_ elements: [String]) -> [String] {
            KubeAPIServerArguments.values(of: "service-account-issuer", initial: initial, in: elements.map(APIServerArgument.init(parsing:)))
        }
        #expect(values([]) == [initial])
        #expect(values(["service-account-issuer=https://a/"]) == ["https://a/"])
        #expect(values(["service-account-issuer-=https://a/"]) == ["https://a/", initial])
        #expect(values(["service-account-issuer+=https://a/"]) == [initial, "https://a/"])
        #expect(values(["service-account-issuer=https://a/", "service-account-issuer=https://b/"]) == ["https://a/", "https://b/"])
        #expect(KubeAPIServerArguments.duplicate(in: ["https://a/", "https://a/"]) == "https://a/")
    }
}

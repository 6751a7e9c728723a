import AIOSCore
import AIOSTestSupport
import Glibc
import Testing

@Suite struct ConfigurationLoaderTests {
    let loader = ConfigurationLoader()

    @Test func missingFileMeansDefaults() throws {
        let configuration = try loader.load(path: "/nonexistent/aiosd.yaml")
        #expect(configuration == AgentConfiguration())
        #expect(configuration.control.socket == "/run/aiosd/aiosd.sock")
        #expect(configuration.control.socketGroup == "aios")
        #expect(configuration.control.maxBodyBytes == 1 << 20)
    }

    @Test func commentedDefaultsFileIsDefaults() throws {
        // The conffile the package ships: every line commented out.
        let text = try String(contentsOfFile: packageRoot + "/packaging/aiosd.yaml", encoding: .utf8)
        #expect(try loader.parse(text, file: "aiosd.yaml") == AgentConfiguration())
    }

    @Test func everySetting() throws {
        let configuration = try loader.parse("""
            control:
              socket: /run/x/y.sock
              socketGroup: operators
              adminGroup: wheel
              maxConnections: 8
              headerTimeout: 500ms
              idleTimeout: 2m
              maxBodyBytes: 4096
            k3s:
              readyTimeout: 10m
            logLevel: debug
            shutdownTimeout: 1h30m
            """, file: "a.yaml")
        #expect(configuration.k3s.readyTimeout == .seconds(600))
        #expect(configuration.control.socket == "/run/x/y.sock")
        #expect(configuration.control.socketGroup == "operators")
        #expect(configuration.control.adminGroup == "wheel")
        #expect(configuration.control.maxConnections == 8)
        #expect(configuration.control.headerTimeout == .milliseconds(500))
        #expect(configuration.control.idleTimeout == .seconds(120))
        #expect(configuration.control.maxBodyBytes == 4096)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.shutdownTimeout == .seconds(5400))
    }

    @Test(arguments: [
        // (yaml, line, key, message fragment)
        ("control:\n  maxConnections: lots\n", 2, "control.maxConnections", "expected a positive integer"),
        ("control:\n  maxConnections: 0\n", 2, "control.maxConnections", "expected a positive integer"),
        ("logLevel: loud\n", 1, "logLevel", "expected one of trace, debug, info"),
        ("shutdownTimeout: 10\n", 1, "shutdownTimeout", "expected a duration"),
        ("shutdownTimeout: 10ms\n", 1, "shutdownTimeout", "must be at least 1s"),
        ("\n\ncontrol:\n  sokcet: /run/a.sock\n", 4, "control.sokcet", "unknown setting"),
        ("logLevel: info\nlogLevel: debug\n", 2, "logLevel", "duplicate key"),
        ("control: [1, 2]\n", 1, "control", "expected a mapping"),
        ("control:\n  socket: relative.sock\n", nil, "control.socket", "absolute path"),
        ("control:\n  adminGroup: \"\"\n", 2, "control.adminGroup", "non-empty"),
        ("k3s:\n  readyTimeout: 1s\n", 2, "k3s.readyTimeout", "must be at least 10s"),
        ("k3s:\n  unit: k3s.service\n", 2, "k3s.unit", "unknown setting"),
        ("control:\n  k3sAdminGroup: \"\"\n", 2, "control.k3sAdminGroup", "non-empty"),
        ("secrets:\n  allowedNamespaces: apps\n", 2, "secrets.allowedNamespaces", "expected a list of strings"),
        ("secrets:\n  allowedNamespaces:\n    - apps\n    - Bad_NS\n", 4, "secrets.allowedNamespaces[1]", "not a namespace name"),
        ("secrets:\n  allowedNamespaces: [apps, kube-system]\n", 2, "secrets.allowedNamespaces[1]", "kube-system cannot be opened"),
        ("secrets:\n  allowedNamespaces: [apps, apps]\n", 2, "secrets.allowedNamespaces[1]", "listed twice"),
        ("secrets:\n  allowedNamespaces: [{a: b}]\n", 2, "secrets.allowedNamespaces[0]", "non-empty single-line string"),
        ("secrets:\n  allowedServiceAccounts: [apps]\n", 2, "secrets.allowedServiceAccounts[0]", "expected NAMESPACE/NAME or NAMESPACE/*"),
        ("secrets:\n  allowedServiceAccounts: [apps/a/b]\n", 2, "secrets.allowedServiceAccounts[0]", "expected NAMESPACE/NAME"),
        ("secrets:\n  allowedServiceAccounts: [\"kube-system/*\"]\n", 2, "secrets.allowedServiceAccounts[0]", "kube-system cannot be opened"),
        ("secrets:\n  allowedNamespace: [apps]\n", 2, "secrets.allowedNamespace", "unknown setting"),
    ] as [(String, Int?, String, String)])
    func invalidSettingsNameLineAndKey(_ yaml: String, _ line: Int?, _ key: String, _ fragment: String) {
        do {
            _ = try loader.parse(yaml, file: "/etc/aios/aiosd.yaml")
            Issue.record("accepted invalid configuration: \(yaml)")
        } catch {
            #expect(error.file == "/etc/aios/aiosd.yaml")
            if let line { #expect(error.line == line) }
            #expect(error.key == key)
            #expect(error.message.contains(fragment), "\(error)")
            #expect(error.description.hasPrefix("/etc/aios/aiosd.yaml:"))
        }
    }

    @Test func networkProxyIsAnExplicitURL() throws {
        #expect(try loader.parse("network:\n  proxy: http://proxy.corp:3128\n", file: "aiosd.yaml").network.proxy == "http://proxy.corp:3128")
        #expect(try loader.parse("", file: "aiosd.yaml").network.proxy == nil)
        #expect(throws: ConfigurationError.self) { try loader.parse("network:\n  proxy: http://u:secret@proxy:3128\n", file: "aiosd.yaml") }
        #expect(throws: ConfigurationError.self) { try loader.parse("network:\n  proxies: x\n", file: "aiosd.yaml") }
    }

    @Test func syntaxErrorHasLine() {
        do {
            _ = try loader.parse("control:\n  socket: [unclosed\n", file: "f.yaml")
            Issue.record("accepted broken YAML")
        } catch {
            #expect(error.line != nil)
            #expect(error.message.contains("not valid YAML"))
        }
    }

    @Test func topLevelMustBeAMapping() {
        #expect(throws: ConfigurationError.self) { try loader.parse("- a\n- b\n", file: "f.yaml") }
    }

    @Test func refusesGroupWritableFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("aiosd.yaml", "logLevel: info\n", mode: 0o664)
        do {
            _ = try loader.load(path: path)
            Issue.record("accepted a group-writable configuration")
        } catch {
            #expect(error.message.contains("writable by group or others"))
        }
    }

    @Test func refusesSymlink() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let target = try directory.write("real.yaml", "logLevel: info\n")
        symlink(target, directory.file("aiosd.yaml"))
        do {
            _ = try loader.load(path: directory.file("aiosd.yaml"))
            Issue.record("followed a symlink")
        } catch {
            #expect(error.message.contains("symbolic link"))
        }
    }

    @Test func restartOnlySettingsAreReported() throws {
        let old = AgentConfiguration()
        var new = old
        new.control.socket = "/run/other.sock"
        new.logLevel = .debug
        #expect(new.settingsNeedingRestart(comparedTo: old) == ["control.socket"])
    }

    var packageRoot: String {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }
}

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("5s", .seconds(5)), ("2m", .seconds(120)),
        ("1h", .seconds(3600)), ("1h30m", .seconds(5400)), ("0s", .zero),
    ])
    func parses(_ text: String, _ expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "s", "5 s", "-5s", "5d", "1.5s", "99999999999s"])
    func rejects(_ text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test func formats() {
        #expect(DurationParser.format(.seconds(30)) == "30s")
        #expect(DurationParser.format(.seconds(3600)) == "1h")
        #expect(DurationParser.format(.milliseconds(1500)) == "1500ms")
    }
}

@Suite struct SyncConfigurationTests {
    @Test func identityAndSyncSectionsAreRead() throws {
        let yaml = """
            identity:
              method: clientSecret
              tenantId: 72f988bf-0000-4000-8000-00000000a105
              clientId: 11111111-2222-3333-4444-555555555555
              clientSecretFile: /etc/aios/app-secret
              authorityHost: https://login.microsoftonline.com/
            sync:
              interval: 15m
              jitter: 0s
              deletedInVault: delete
              concurrency: 4
            """
        let configuration = try ConfigurationLoader().parse(yaml, file: "aiosd.yaml")
        #expect(configuration.identity.method == .clientSecret)
        #expect(configuration.identity.clientSecretFile == "/etc/aios/app-secret")
        #expect(configuration.identity.authorityHost == "https://login.microsoftonline.com")
        #expect(configuration.sync.interval == .seconds(900))
        #expect(configuration.sync.jitter == .zero)
        #expect(configuration.sync.deletedInVault == .delete)
        #expect(configuration.sync.concurrency == 4)
        #expect(configuration.identity.serviceAccount.subject == "system:serviceaccount:azure-iot-operations:aio-ssc-sa")
    }

    @Test(arguments: [
        ("identity:\n  tenantId: not-a-guid\n", "identity.tenantId"),
        ("identity:\n  method: password\n", "identity.method"),
        ("identity:\n  authorityHost: http://login.example\n", "identity.authorityHost"),
        ("sync:\n  interval: 1s\n", "sync.interval"),
        ("sync:\n  deletedInVault: purge\n", "sync.deletedInVault"),
        ("sync:\n  definitions: relative/dir\n", "sync.definitions"),
        ("sync:\n  vaultRequestLimit: 4001\n", "sync.vaultRequestLimit"),
        ("sync:\n  vaultRequestWindow: 500ms\n", "sync.vaultRequestWindow"),
        ("sync:\n  vaultRequestsPerSecond: 100\n  vaultRequestLimit: 1000\n", "sync.vaultRequestsPerSecond"),
    ])
    func badSyncSettingsAreRefused(yaml: String, key: String) {
        #expect {
            _ = try ConfigurationLoader().parse(yaml, file: "aiosd.yaml")
        } throws: { ($0 as? ConfigurationError)?.key == key }
    }

    /// The vault budget is a window (Key Vault's own semantics); 0.1's per-second rate still loads, as rate x 10 per 10 s.
    @Test func vaultBudgetIsAWindowAndTheOldRateStillLoads() throws {
        let defaults = try ConfigurationLoader().parse("", file: "f.yaml").sync
        #expect(defaults.vaultRequestLimit == 4000 && defaults.vaultRequestWindow == .seconds(10))
        let set = try ConfigurationLoader().parse("sync:\n  vaultRequestLimit: 2000\n  vaultRequestWindow: 30s\n", file: "f.yaml").sync
        #expect(set.vaultRequestLimit == 2000 && set.vaultRequestWindow == .seconds(30))
        let old = try ConfigurationLoader().parse("sync:\n  vaultRequestsPerSecond: 200\n", file: "f.yaml").sync
        #expect(old.vaultRequestLimit == 2000 && old.vaultRequestWindow == .seconds(10))
        let most = try ConfigurationLoader().parse("sync:\n  vaultRequestsPerSecond: 4000\n", file: "f.yaml").sync
        #expect(most.vaultRequestLimit == 4000, "never more than Key Vault's own limit")
    }

    @Test func privilegeSettings() throws {
        let defaults = try ConfigurationLoader().parse("", file: "f.yaml")
        #expect(defaults.control.k3sAdminGroup == nil)
        #expect(defaults.secrets.allowedNamespaces == ["azure-iot-operations"])
        #expect(defaults.secrets.allowedServiceAccounts == [])
        let set = try ConfigurationLoader().parse("""
            control:
              k3sAdminGroup: k3s-admins
            secrets:
              allowedNamespaces: [azure-iot-operations, apps]
              allowedServiceAccounts:
                - apps/reader
                - "apps/*"
            """, file: "f.yaml")
        #expect(set.control.k3sAdminGroup == "k3s-admins")
        #expect(set.secrets.allowedNamespaces == ["azure-iot-operations", "apps"])
        #expect(set.secrets.allowedServiceAccounts == ["apps/reader", "apps/*"])
        // An empty list closes every namespace to operators.
        #expect(try ConfigurationLoader().parse("secrets:\n  allowedNamespaces: []\n", file: "f.yaml").secrets.allowedNamespaces == [])
    }
}

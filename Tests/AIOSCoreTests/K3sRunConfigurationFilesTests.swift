import AIOSCore
import AIOSTestSupport
import Glibc
import Testing

/// K3s' own file rules on a real file system (LocalK3sFiles): order, suffixes, location, symlinks, unsafe files.
@Suite struct K3sRunConfigurationFilesTests {
    func unit(_ commandLine: [String] = ["/usr/local/bin/k3s", "server"], environmentFiles: [String] = []) -> K3sUnitDescription {
        K3sUnitDescription(name: "k3s.service", commandLine: commandLine, environmentFiles: environmentFiles)
    }

    @Test func readsConfigThenDropInsInLexicalOrder() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let config = try directory.write("config.yaml", "node-label:\n  - a=1\n")
        mkdir(directory.file("config.yaml.d"), 0o755)
        try directory.write("config.yaml.d/90-aios.yaml", "kube-apiserver-arg+:\n  - v=2\n")
        try directory.write("config.yaml.d/10-site.YML", "disable: traefik\n")
        try directory.write("config.yaml.d/README", "not yaml: [\n")
        mkdir(directory.file("config.yaml.d/subdir.yaml"), 0o755)
        let run = try K3sRunConfiguration.read(unit: unit(["/usr/local/bin/k3s", "server", "--config", config]), files: LocalK3sFiles())
        #expect(run.files.map(\.path) == [config, directory.file("config.yaml.d/10-site.YML"), directory.file("config.yaml.d/90-aios.yaml")])
        #expect(run.agentDropInPath == directory.file("config.yaml.d/90-aios.yaml"))
    }

    @Test func missingFilesAreNoFiles() throws {
        let run = try K3sRunConfiguration.read(unit: unit(["k3s", "server", "-c", "/nonexistent/config.yaml"]), files: LocalK3sFiles())
        #expect(run.files.isEmpty)
        #expect(run.configPath == "/nonexistent/config.yaml")
        #expect(try K3sRunConfiguration.read(unit: unit(["k3s", "server", "-c=/nonexistent/c.yaml", "--config", "/second"]), files: LocalK3sFiles()).configPath
                == "/nonexistent/c.yaml", "the first of --config/-c, as K3s scans its arguments")
    }

    @Test func configFileFromTheUnitsEnvironmentFile() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let config = try directory.write("server.yaml", "tls-san: a\n")
        let environment = try directory.write("k3s.service.env", "K3S_TOKEN=x\nK3S_CONFIG_FILE=\(config)\n", mode: 0o600)
        let run = try K3sRunConfiguration.read(unit: unit(environmentFiles: ["/nonexistent/default", environment]), files: LocalK3sFiles())
        #expect(run.configPath == config)
        #expect(run.dropInDirectory == config + ".d")
        #expect(run.files.map(\.path) == [config])
        // K3s reads K3S_CONFIG_FILE before its command line (pkg/configfilearg/parser.go, findConfigFileFlag).
        let both = try K3sRunConfiguration.read(unit: unit(["k3s", "server", "--config", "/nonexistent/flag.yaml"], environmentFiles: [environment]),
                                                files: LocalK3sFiles())
        #expect(both.configPath == config)
    }

    @Test func symlinkedConfigIsFollowedToASafeTarget() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let target = try directory.write("managed.yaml", "kube-apiserver-arg:\n  - v=3\n")
        let link = directory.file("config.yaml")
        #expect(symlink(target, link) == 0)
        let run = try K3sRunConfiguration.read(unit: unit(["k3s", "server", "--config=\(link)"]), files: LocalK3sFiles())
        #expect(run.files.map(\.text) == ["kube-apiserver-arg:\n  - v=3\n"])
    }

    @Test func symlinkToAWorldWritableTargetIsRefusedNamingIt() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let target = try directory.write("managed.yaml", "token: x\n", mode: 0o666)
        let link = directory.file("config.yaml")
        #expect(symlink(target, link) == 0)
        do {
            _ = try K3sRunConfiguration.read(unit: unit(["k3s", "server", "--config=\(link)"]), files: LocalK3sFiles())
            Issue.record("followed a link to a world-writable file")
        } catch {
            #expect(error.message.contains(target))
            #expect(error.message.contains("writable by group or others"))
        }
    }

    @Test func unsafeFileIsAnErrorNamingIt() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let config = try directory.write("config.yaml", "token: x\n", mode: 0o666)
        do {
            _ = try K3sRunConfiguration.read(unit: unit(["k3s", "server", "--config", config]), files: LocalK3sFiles())
            Issue.record("read a world-writable K3s config")
        } catch {
            #expect(error.message.contains(config))
        }
    }
}


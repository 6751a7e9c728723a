import AIOSCore
import AIOSTestSupport
import Glibc
import Testing

@Suite struct K3sConfigReaderTests {
    @Test func readsConfigThenDropInsInLexicalOrder() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let config = try directory.write("config.yaml", "node-label:\n  - a=1\n")
        mkdir(directory.file("config.yaml.d"), 0o755)
        try directory.write("config.yaml.d/90-aios.yaml", "kube-apiserver-arg+:\n  - v=2\n")
        try directory.write("config.yaml.d/10-site.YML", "disable: traefik\n")
        try directory.write("config.yaml.d/README", "not yaml: [\n")
        mkdir(directory.file("config.yaml.d/subdir.yaml"), 0o755)
        let files = try K3sConfigReader.read(configPath: config)
        #expect(files.map(\.path) == [config, directory.file("config.yaml.d/10-site.YML"), directory.file("config.yaml.d/90-aios.yaml")])
    }

    @Test func missingFilesAreNoFiles() throws {
        #expect(try K3sConfigReader.read(configPath: "/nonexistent/config.yaml").isEmpty)
    }

    @Test func unsafeFileIsAnErrorNamingIt() throws {
        let directory = try TemporaryDirectory(prefix: "k3s")
        defer { directory.remove() }
        let config = try directory.write("config.yaml", "token: x\n", mode: 0o666)
        do {
            _ = try K3sConfigReader.read(configPath: config)
            Issue.record("read a world-writable K3s config")
        } catch {
            #expect(error.file == config)
        }
    }
}

@Suite struct K3sSecretsTests {
    @Test func redactsSecretFlagsInBothForms() {
        let redacted = K3sSecrets.redact(commandLine: [
            "/usr/local/bin/k3s", "server", "--token=s3cr3t", "--agent-token", "an0ther", "--datastore-endpoint=postgres://u:p@h/db",
            "--kube-apiserver-arg=v=2", "--node-name", "edge-1",
        ])
        #expect(redacted == [
            "/usr/local/bin/k3s", "server", "--token=<redacted>", "--agent-token", "<redacted>", "--datastore-endpoint=<redacted>",
            "--kube-apiserver-arg=v=2", "--node-name", "edge-1",
        ])
        #expect(!redacted.joined().contains("s3cr3t"))
    }

    @Test func secretKeys() {
        #expect(K3sSecrets.isSecret("token"))
        #expect(K3sSecrets.isSecret("agent-token+"))
        #expect(!K3sSecrets.isSecret("token-file"))
        #expect(!K3sSecrets.isSecret("kube-apiserver-arg"))
    }
}

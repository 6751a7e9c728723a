import AIOSCore
import Testing

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

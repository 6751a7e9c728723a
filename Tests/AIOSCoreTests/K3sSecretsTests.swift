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

    @Test func redactsEveryCredentialForm() throws {
        // Short flag, VPN auth key, every etcd-s3-* flag, the old cluster-secret, appended and removed forms.
        let commandLine = ["/usr/local/bin/k3s", "server", "-t", "SECRET1", "--vpn-auth=name=tailscale,joinKey=SECRET2",
                           "--etcd-s3-access-key", "SECRET3", "--etcd-s3-secret-key=SECRET4", "--etcd-s3-session-token=SECRET5",
                           "--etcd-s3-endpoint=https://SECRET6:x@s3.example", "--cluster-secret", "SECRET7", "--node-name", "edge-1"]
        let redacted = K3sSecrets.redact(commandLine: commandLine)
        #expect(!redacted.joined(separator: " ").contains("SECRET"), "\(redacted)")
        #expect(redacted.contains("edge-1"))
        for key in ["token", "t", "agent-token", "vpn-auth", "datastore-endpoint", "etcd-s3-access-key", "etcd-s3-proxy", "cluster-secret",
                    "token+", "etcd-s3-secret-key-"] {
            #expect(K3sSecrets.isSecret(key), "\(key)")
        }
        // Environment files: K3S_VPN_AUTH is a flag, so it is merged, and redacted like the others; so are the etcd
        // S3 keys under the names K3s gives them (AWS_*, k3s pkg/cli/cmds/server.go).
        let env = try K3sEnvironment.parse("K3S_VPN_AUTH=name=tailscale,joinKey=SECRET8\nK3S_TOKEN=SECRET9\nAWS_ACCESS_KEY_ID=SECRET12\nAWS_SECRET_ACCESS_KEY=SECRET13\n",
                                           file: "/etc/default/k3s")
        #expect(env.map { K3sEnvironment.flags[$0.name] } == ["vpn-auth", "token", "etcd-s3-access-key", "etcd-s3-secret-key"])
        #expect(env.compactMap { K3sEnvironment.flags[$0.name] }.allSatisfy(K3sSecrets.isSecret))
        // A malformed environment line is located, never echoed.
        do {
            _ = try K3sEnvironment.parse("K10SECRET::server:SECRET10 token\n", file: "/etc/default/k3s")
            Issue.record("a malformed line was accepted")
        } catch {
            #expect(!error.description.contains("SECRET"), "\(error.description)")
        }
        do {
            _ = try K3sEnvironment.parse("bad name-SECRET11=x\n", file: "/etc/default/k3s")
            Issue.record("a malformed name was accepted")
        } catch {
            #expect(error.line == 1)
            #expect(!error.description.contains("SECRET"), "\(error.description)")
        }
    }

    @Test func secretKeys() {
        #expect(K3sSecrets.isSecret("token"))
        #expect(K3sSecrets.isSecret("agent-token+"))
        #expect(!K3sSecrets.isSecret("token-file"))
        #expect(!K3sSecrets.isSecret("kube-apiserver-arg"))
    }
}

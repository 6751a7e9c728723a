@testable import AIOSCore
import AIOSHTTP
import Testing

@Suite struct KubeconfigTests {
    // The shape K3s writes to /etc/rancher/k3s/k3s.yaml.
    let k3sYAML = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: Q0EtUEVN
            server: https://127.0.0.1:6443
          name: default
        contexts:
        - context:
            cluster: default
            user: default
          name: default
        current-context: default
        kind: Config
        preferences: {}
        users:
        - name: default
          user:
            client-certificate-data: Q0VSVA==
            client-key-data: S0VZ
        """

    @Test func readsK3sAdminKubeconfig() throws {
        let config = try Kubeconfig.parse(k3sYAML, file: "k3s.yaml")
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.certificateAuthorityPEM == Array("CA-PEM".utf8))
        #expect(config.clientCertificatePEM == Array("CERT".utf8))
        #expect(config.clientKeyPEM == Array("KEY".utf8))
    }

    @Test func theAPIServerIsTrustedByItsOwnCAOnlyAndNeverThroughAProxy() throws {
        let config = try Kubeconfig.parse(k3sYAML, file: "k3s.yaml")
        #expect(config.tlsCredentials.trustsOnlyBundle, "the system store is not consulted")
        #expect(config.tlsCredentials.caBundlePEM == Array("CA-PEM".utf8))
        let request = KubernetesClient(kubeconfig: config).request(.get, "/api/v1/namespaces", headers: [], timeout: .seconds(1))
        #expect(request.bypassesProxy)
        #expect(request.tls?.trustsOnlyBundle == true)
        #expect(request.url == "https://127.0.0.1:6443/api/v1/namespaces")
    }

    @Test func followsCurrentContext() throws {
        let text = """
            clusters:
            - name: a
              cluster: {server: "https://a:6443"}
            - name: b
              cluster: {server: "https://b:6443"}
            contexts:
            - name: ctx
              context: {cluster: b, user: u}
            current-context: ctx
            users: []
            """
        #expect(try Kubeconfig.parse(text, file: "k").server == "https://b:6443")
    }

    @Test(arguments: [
        ("clusters: []\n", "no cluster"),
        ("clusters:\n- name: x\n  cluster: {server: http://plain:6443}\n", "https://"),
        ("clusters:\n- name: x\n  cluster: {server: https://x, certificate-authority-data: '***'}\n", "base64"),
        ("- just a list\n", "not a kubeconfig"),
    ])
    func rejectsBrokenKubeconfigs(_ text: String, _ fragment: String) {
        do {
            _ = try Kubeconfig.parse(text, file: "k3s.yaml")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test func federatedCredentialCommand() {
        let credential = FederatedCredential(issuer: "https://eastus.oic.prod-arc.azure.com/t/u/")
        #expect(credential.subject == "system:serviceaccount:azure-iot-operations:aio-ssc-sa")
        #expect(credential.azCommand.contains("--issuer https://eastus.oic.prod-arc.azure.com/t/u/ --subject system:serviceaccount:azure-iot-operations:aio-ssc-sa --audience api://AzureADTokenExchange"))
    }
}

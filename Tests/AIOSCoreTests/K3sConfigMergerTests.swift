import AIOSCore
import Testing

/// K3s' own merge rules (reference/host-side.md 1.2-1.3), each with the example that shows it.
@Suite struct K3sConfigMergerTests {
    let merger = K3sConfigMerger()

    @Test func laterFileReplacesListsUnlessKeyEndsInPlus() throws {
        // The K3s docs' example: node-label replaced by a later plain key, node-taint appended with `+`.
        let effective = try merger.merge(files: [
            ("/etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: \"0644\"\nnode-label:\n  - foo=bar\n  - something=amazing\nnode-taint:\n  - alice=bob:NoExecute\n"),
            ("/etc/rancher/k3s/config.yaml.d/test1.yaml", "write-kubeconfig-mode: 600\nnode-taint:\n  - alice=bob:NoExecute\n"),
            ("/etc/rancher/k3s/config.yaml.d/test2.yaml", "write-kubeconfig-mode: 777\nnode-label:\n  - other=what\n  - foo=three\nnode-taint+:\n  - charlie=delta:NoSchedule\n"),
        ])
        #expect(effective.setting("write-kubeconfig-mode")?.values.map(\.value) == ["777"])
        #expect(effective.setting("node-label")?.values.map(\.value) == ["other=what", "foo=three"])
        #expect(effective.setting("node-taint")?.values.map(\.value) == ["alice=bob:NoExecute", "charlie=delta:NoSchedule"])
        let taint = try #require(effective.setting("node-taint"))
        #expect(taint.values[0].location == "/etc/rancher/k3s/config.yaml.d/test1.yaml:3")
        #expect(taint.values[1].location == "/etc/rancher/k3s/config.yaml.d/test2.yaml:6")
        // Keys keep the order of their first appearance.
        #expect(effective.settings.map(\.key) == ["write-kubeconfig-mode", "node-label", "node-taint"])
    }

    @Test func plusWithoutEarlierValueStartsTheList() throws {
        let effective = try merger.merge(files: [
            ("/etc/rancher/k3s/config.yaml.d/90-aios.yaml", "kube-apiserver-arg+:\n  - service-account-issuer=https://x.example/\n"),
        ])
        let setting = try #require(effective.setting("kube-apiserver-arg"))
        #expect(setting.isList)
        #expect(setting.values.map(\.value) == ["service-account-issuer=https://x.example/"])
    }

    @Test func laterPlainKeyDropsWhatAPlusAppended() throws {
        // Why the agent refuses when a later drop-in replaces the list: its entries would vanish.
        let effective = try merger.merge(files: [
            ("/etc/rancher/k3s/config.yaml.d/90-aios.yaml", "kube-apiserver-arg+:\n  - service-account-issuer=https://x.example/\n"),
            ("/etc/rancher/k3s/config.yaml.d/99-other.yaml", "kube-apiserver-arg:\n  - audit-log-maxage=30\n"),
        ])
        let setting = try #require(effective.setting("kube-apiserver-arg"))
        #expect(setting.values.map(\.value) == ["audit-log-maxage=30"])
        #expect(setting.values[0].source.name == "/etc/rancher/k3s/config.yaml.d/99-other.yaml")
    }

    @Test func commandLineOverridesFilesAndReplacesLists() throws {
        let effective = try merger.merge(
            files: [("/etc/rancher/k3s/config.yaml", "kube-apiserver-arg:\n  - a=1\n  - b=2\ndisable: traefik\n")],
            commandLine: ["/usr/local/bin/k3s", "server", "--kube-apiserver-arg=c=3", "--kube-apiserver-arg", "d=4",
                          "--cluster-init", "--write-kubeconfig-mode", "644"])
        let args = try #require(effective.setting("kube-apiserver-arg"))
        #expect(args.values.map(\.value) == ["c=3", "d=4"])
        #expect(args.values.allSatisfy { $0.source.kind == .commandLine && $0.line == nil })
        #expect(effective.setting("disable")?.values.map(\.value) == ["traefik"])
        #expect(effective.setting("cluster-init")?.values.map(\.value) == ["true"])
        #expect(effective.setting("write-kubeconfig-mode")?.values.map(\.value) == ["644"])
    }

    @Test func dropInOrderIsLexicalAndYamlOnly() {
        #expect(K3sConfigMerger.dropInOrder(["99-z.yaml", "10-a.YML", "README", "50-m.yaml.bak", "20-b.yaml"])
                == ["10-a.YML", "20-b.yaml", "99-z.yaml"])
    }

    @Test(arguments: [
        ("kube-apiserver-arg:\n  - [nested]\n", "list elements must be strings"),
        ("- a\n- b\n", "expected a mapping"),
        ("key: {a: b}\n", "expected a string or a list"),
        ("key: [unclosed\n", "not valid YAML"),
    ])
    func malformedFilesAreErrorsNamingTheFile(_ text: String, _ fragment: String) {
        do {
            _ = try merger.merge(files: [("/etc/rancher/k3s/config.yaml", text)])
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.file == "/etc/rancher/k3s/config.yaml")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }
}

@Suite struct K3sEnvironmentTests {
    @Test func parsesTheInstallersEnvironmentFile() throws {
        let variables = try K3sEnvironment.parse("""
            # written by the K3s installer
            K3S_TOKEN='s3cr3t'
            K3S_NODE_NAME="edge-1"

            CONTAINERD_LOG_LEVEL=debug
            """, file: "/etc/systemd/system/k3s.service.env")
        #expect(variables.map(\.name) == ["K3S_TOKEN", "K3S_NODE_NAME", "CONTAINERD_LOG_LEVEL"])
        #expect(variables[0].value == "s3cr3t")
        #expect(variables[1].value == "edge-1")
        #expect(variables[1].line == 3)
    }

    @Test func malformedLineIsAnError() {
        #expect(throws: ConfigurationError.self) { try K3sEnvironment.parse("K3S_TOKEN\n", file: "env") }
        #expect(throws: ConfigurationError.self) { try K3sEnvironment.parse("BAD NAME=x\n", file: "env") }
    }

    @Test func environmentOverridesFilesAndCommandLineOverridesEnvironment() throws {
        let effective = try K3sConfigMerger().merge(
            files: [("/etc/rancher/k3s/config.yaml", "node-name: from-file\nwrite-kubeconfig-mode: \"0600\"\n")],
            environment: [("/etc/systemd/system/k3s.service.env", "K3S_NODE_NAME=from-env\nK3S_KUBECONFIG_MODE=0644\nOTHER=x\n")],
            commandLine: ["k3s", "server", "--write-kubeconfig-mode=0640"])
        let node = try #require(effective.setting("node-name")?.values.first)
        #expect(node.value == "from-env")
        #expect(node.location == "/etc/systemd/system/k3s.service.env:1")
        #expect(effective.setting("write-kubeconfig-mode")?.values.map(\.value) == ["0640"])
        #expect(effective.setting("other") == nil)
    }
}

@Suite struct K3sConfigOddFilesTests {
    @Test func commentsAnchorsOddSpacingAndUnknownKeysAreReadRight() throws {
        let text = """
            # K3s server configuration
            write-kubeconfig-mode:   "0644"     # trailing comment
            node-label: &labels
              -   zone=a
              - "rack=7"
            node-taint: *labels
            some-key-k3s-does-not-know: 42
            kube-apiserver-arg:
            - 'audit-log-maxage=30'
            -   "service-account-issuer=https://x.example/"

            """
        let effective = try K3sConfigMerger().merge(files: [("/etc/rancher/k3s/config.yaml", text)])
        #expect(effective.setting("write-kubeconfig-mode")?.values.map(\.value) == ["0644"])
        #expect(effective.setting("node-label")?.values.map(\.value) == ["zone=a", "rack=7"])
        #expect(effective.setting("node-taint")?.values.map(\.value) == ["zone=a", "rack=7"], "an alias reads as its anchor")
        #expect(effective.setting("some-key-k3s-does-not-know")?.values.map(\.value) == ["42"], "kept and shown, as K3s only warns")
        let args = try #require(effective.setting("kube-apiserver-arg"))
        #expect(args.values.map(\.value) == ["audit-log-maxage=30", "service-account-issuer=https://x.example/"])
        #expect(args.values[1].location == "/etc/rancher/k3s/config.yaml:10")
    }
}

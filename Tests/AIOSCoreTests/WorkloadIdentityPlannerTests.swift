import AIOSCore
import Testing

@Suite struct WorkloadIdentityPlannerTests {
    let planner = WorkloadIdentityPlanner()
    let issuer = "https://eastus.oic.prod-arc.azure.com/tenant/uuid/"
    let config = "/etc/rancher/k3s/config.yaml"

    func effective(_ files: [(String, String)], commandLine: [String] = []) throws -> K3sEffectiveConfiguration {
        try K3sConfigMerger().merge(files: files.map { (path: $0.0, text: $0.1) }, commandLine: commandLine)
    }

    @Test func enableOnAPlainClusterKeepsTheDefaultIssuerSecond() throws {
        let plan = try planner.enable(issuer: issuer, effective: try effective([(config, "write-kubeconfig-mode: \"0644\"\n")]), dropIn: [])
        #expect(plan == .write([
            APIServerArgument(name: "service-account-issuer", value: issuer),
            APIServerArgument(name: "service-account-issuer", value: WorkloadIdentityPlanner.defaultIssuer),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ]))
    }

    @Test func enablingTheSameIssuerAgainChangesNothing() throws {
        guard case .write(let arguments) = try planner.enable(issuer: issuer, effective: try effective([]), dropIn: []) else {
            Issue.record("expected a write")
            return
        }
        let dropInText = AgentDropIn.render(arguments)
        let dropIn = try AgentDropIn.arguments(in: dropInText)
        #expect(dropIn == arguments, "the rendered drop-in reads back as written")
        let again = try planner.enable(issuer: issuer, effective: try effective([(AgentDropIn.path, dropInText)]), dropIn: dropIn)
        #expect(again == .unchanged)
    }

    @Test func aNewIssuerKeepsOursAsSecond() throws {
        let old = "https://old.example/"
        let dropInText = AgentDropIn.render([
            APIServerArgument(name: "service-account-issuer", value: old),
            APIServerArgument(name: "service-account-issuer", value: WorkloadIdentityPlanner.defaultIssuer),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ])
        let plan = try planner.enable(issuer: issuer, effective: try effective([(AgentDropIn.path, dropInText)]),
                                      dropIn: try AgentDropIn.arguments(in: dropInText))
        #expect(plan == .write([
            APIServerArgument(name: "service-account-issuer", value: issuer),
            APIServerArgument(name: "service-account-issuer", value: old),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ]))
    }

    @Test func refusesAnIssuerSetElsewhereNamingFileAndLine() throws {
        let files = [(config, "kube-apiserver-arg:\n  - audit-log-maxage=30\n  - service-account-issuer=https://other.example/\n")]
        #expect(throws: WorkloadIdentityPlanner.Refusal(description:
            "/etc/rancher/k3s/config.yaml:3 already sets service-account-issuer=https://other.example/; remove it there (aiosd keeps the previous issuer as a second issuer itself)")) {
            try planner.enable(issuer: issuer, effective: try effective(files), dropIn: [])
        }
    }

    @Test func refusesWhenALaterDropInReplacesTheList() throws {
        let ours = AgentDropIn.render([APIServerArgument(name: "service-account-max-token-expiration", value: "24h")])
        let files = [(AgentDropIn.path, ours), ("/etc/rancher/k3s/config.yaml.d/99-site.yaml", "kube-apiserver-arg:\n  - audit-log-maxage=30\n")]
        do {
            _ = try planner.enable(issuer: issuer, effective: try effective(files), dropIn: try AgentDropIn.arguments(in: ours))
            Issue.record("accepted an edit that would not take effect")
        } catch let refusal as WorkloadIdentityPlanner.Refusal {
            #expect(refusal.description.hasPrefix("/etc/rancher/k3s/config.yaml.d/99-site.yaml:2 sets kube-apiserver-arg without '+'"))
        }
    }

    @Test func refusesWhenTheCommandLineOverridesTheFiles() throws {
        do {
            _ = try planner.enable(issuer: issuer, effective: try effective([], commandLine: ["k3s", "server", "--kube-apiserver-arg=v=2"]), dropIn: [])
            Issue.record("accepted an edit the command line overrides")
        } catch let refusal as WorkloadIdentityPlanner.Refusal {
            #expect(refusal.description.contains("set on the command line (ExecStart of k3s.service)"))
        }
    }

    @Test(arguments: ["http://x.example/", "https://", "https://a b/", "https://x.example/#frag", "https://x.example/\n", "https://u@x/", "ftp://x"])
    func refusesBadIssuers(_ bad: String) {
        #expect(throws: WorkloadIdentityPlanner.Refusal.self) { try WorkloadIdentityPlanner.validateIssuer(bad) }
    }

    @Test func trailingSlashIsKeptVerbatim() throws {
        guard case .write(let arguments) = try planner.enable(issuer: issuer, effective: try effective([]), dropIn: []) else { return }
        #expect(AgentDropIn.render(arguments).contains("\"service-account-issuer=\(issuer)\""))
    }
}

@Suite struct APIServerArgumentTests {
    @Test func parsesK3sForms() {
        #expect(APIServerArgument(parsing: "--v=2") == APIServerArgument(name: "v", value: "2"))
        #expect(APIServerArgument(parsing: "profiling") == APIServerArgument(name: "profiling", value: "true"))
        #expect(APIServerArgument(parsing: "service-account-issuer-=https://a/").flagName == "service-account-issuer")
        #expect(APIServerArgument(parsing: "feature-gates=A=true,B=false").value == "A=true,B=false")
    }

    @Test(arguments: [
        ("audit-log-maxage", "30", true),
        ("audit-log-maxag", "30", false),        // typo: not a kube-apiserver flag
        ("Audit-Log-MaxAge", "30", false),
        ("audit-log-path", "/var/log/a\nb", false),
        ("audit-log-path", "/var/log/a\u{0}", false),
        ("audit-log-path", "/var/log/\u{1b}[31m", false),
        ("audit-log-path", "/var/log/kube audit.log", true),
        ("audit-log-path", "/var/log/a\u{2028}b", false),       // line separator
        ("audit-log-path", "/var/log/a\u{2029}b", false),       // paragraph separator
        ("audit-log-path", "/var/log/a\u{85}b", false),         // NEL
        ("audit-log-maxage-", "30", false),                    // K3s' remove marker, not a name
        ("audit-log-maxage+", "30", false),                    // K3s' append marker
        ("service-account-issuer", "https://x/\"quoted\"", true),  // rendered escaped, read back intact
    ])
    func validation(_ name: String, _ value: String, _ valid: Bool) throws {
        let argument = APIServerArgument(name: name, value: value)
        if valid {
            try argument.validate()
            #expect(try AgentDropIn.arguments(in: AgentDropIn.render([argument])) == [argument])
        } else {
            #expect(throws: APIServerArgument.ValidationError.self) { try argument.validate() }
        }
    }
}

@Suite struct APIServerArgEditTests {
    let existing = [APIServerArgument(name: "audit-log-maxage", value: "7"), APIServerArgument(name: "v", value: "2")]

    @Test func setReplacesAllValuesOfAFlag() throws {
        let edited = try WorkloadIdentityPlanner.edit(dropIn: existing, set: [APIServerArgument(name: "audit-log-maxage", value: "30")], unset: [])
        #expect(edited == [APIServerArgument(name: "v", value: "2"), APIServerArgument(name: "audit-log-maxage", value: "30")])
    }

    @Test func sameValuesAreNoChange() throws {
        let edited = try WorkloadIdentityPlanner.edit(dropIn: existing, set: [APIServerArgument(name: "v", value: "2")], unset: [])
        #expect(edited == nil, "setting what is already set changes nothing")
        #expect(try WorkloadIdentityPlanner.edit(dropIn: existing, set: [], unset: ["profiling"]) == nil)
    }

    @Test func unsetRemoves() throws {
        #expect(try WorkloadIdentityPlanner.edit(dropIn: existing, set: [], unset: ["v"]) == [APIServerArgument(name: "audit-log-maxage", value: "7")])
    }

    @Test func refusesUnknownFlagsAndControlCharacters() {
        #expect(throws: WorkloadIdentityPlanner.Refusal.self) {
            try WorkloadIdentityPlanner.edit(dropIn: [], set: [APIServerArgument(name: "audit-log-maxag", value: "1")], unset: [])
        }
        #expect(throws: WorkloadIdentityPlanner.Refusal.self) {
            try WorkloadIdentityPlanner.edit(dropIn: [], set: [APIServerArgument(name: "audit-log-path", value: "a\nb: c")], unset: [])
        }
        #expect(throws: WorkloadIdentityPlanner.Refusal.self) { try WorkloadIdentityPlanner.edit(dropIn: [], set: [], unset: ["nope"]) }
    }
}

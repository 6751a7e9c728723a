import AIOSCore
import Testing

@Suite struct WorkloadIdentityPlannerTests {
    let planner = WorkloadIdentityPlanner()
    let issuer = "https://eastus.oic.prod-arc.azure.com/tenant/uuid/"
    let config = "/etc/rancher/k3s/config.yaml"

    func run(_ files: [(String, String)], commandLine: [String] = ["k3s", "server"]) -> K3sRunConfiguration {
        K3sRunConfiguration(unit: K3sUnitDescription(name: "k3s.service", commandLine: commandLine), configPath: config,
                            files: files.map { (path: $0.0, text: $0.1) }, environment: [])
    }

    func enable(_ files: [(String, String)], maxTokenExpiration: String? = nil) throws -> [APIServerArgument] {
        let run = run(files)
        let dropIn = try run.agentDropInText.map { try AgentDropIn.arguments(in: $0) } ?? []
        return try planner.enable(issuer: issuer, maxTokenExpiration: maxTokenExpiration, run: run, dropIn: dropIn)
    }

    @Test func enableOnAPlainClusterKeepsTheDefaultIssuerSecond() throws {
        #expect(try enable([(config, "write-kubeconfig-mode: \"0644\"\n")]) == [
            APIServerArgument(name: "service-account-issuer", value: issuer),
            APIServerArgument(name: "service-account-issuer", value: WorkloadIdentityPlanner.defaultIssuer),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ])
    }

    @Test func theDefaultIssuerFollowsTheClusterDomain() throws {
        #expect(try enable([(config, "cluster-domain: edge.local\n")])[1] == APIServerArgument(name: "service-account-issuer", value: "https://kubernetes.default.svc.edge.local"))
    }

    @Test func enablingTheSameIssuerAgainPlansTheSameFile() throws {
        let arguments = try enable([])
        let dropInText = AgentDropIn.render(arguments)
        #expect(try AgentDropIn.arguments(in: dropInText) == arguments, "the rendered drop-in reads back as written")
        #expect(try enable([(AgentDropIn.path, dropInText)]) == arguments)
    }

    @Test func anIssuerAlreadySetByHandIsNotRepeated() throws {
        // The manual procedure's config.yaml: the same issuer and lifetime. A duplicate would stop kube-apiserver.
        let files = [(config, "kube-apiserver-arg:\n  - service-account-issuer=\(issuer)\n  - service-account-max-token-expiration=24h\n")]
        #expect(try enable(files) == [])
        let withDefault = [(config, "kube-apiserver-arg:\n  - service-account-issuer=\(issuer)\n  - service-account-issuer=\(WorkloadIdentityPlanner.defaultIssuer)\n  - service-account-max-token-expiration=24h\n")]
        #expect(try enable(withDefault) == [], "already first, the default kept second by hand")
        let issuerOnly = [(config, "kube-apiserver-arg:\n  - service-account-issuer=\(issuer)\n")]
        #expect(try enable(issuerOnly) == [APIServerArgument(name: "service-account-max-token-expiration", value: "24h")])
    }

    @Test func aDifferentLifetimeSetByHandIsRefusedOnlyWhenOneIsAskedFor() throws {
        let files = [(config, "kube-apiserver-arg:\n  - service-account-max-token-expiration=48h\n")]
        #expect(try enable(files).map(\.flagName) == ["service-account-issuer", "service-account-issuer"])
        #expect(throws: WorkloadIdentityPlanner.Refusal.self) { try enable(files, maxTokenExpiration: "24h") }
    }

    @Test func aNewIssuerKeepsOursAsSecond() throws {
        let old = "https://old.example/"
        let dropInText = AgentDropIn.render([
            APIServerArgument(name: "service-account-issuer", value: old),
            APIServerArgument(name: "service-account-issuer", value: WorkloadIdentityPlanner.defaultIssuer),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ])
        #expect(try enable([(AgentDropIn.path, dropInText)]) == [
            APIServerArgument(name: "service-account-issuer", value: issuer),
            APIServerArgument(name: "service-account-issuer", value: old),
            APIServerArgument(name: "service-account-max-token-expiration", value: "24h"),
        ])
    }

    @Test func refusesAnIssuerSetElsewhereNamingFileAndLine() throws {
        let files = [(config, "kube-apiserver-arg:\n  - audit-log-maxage=30\n  - service-account-issuer=https://other.example/\n")]
        #expect(throws: WorkloadIdentityPlanner.Refusal(description:
            "/etc/rancher/k3s/config.yaml:3 already sets service-account-issuer=https://other.example/; remove it there (aiosd keeps the previous issuer as a second issuer itself)")) {
            try enable(files)
        }
    }

    @Test(arguments: ["http://x.example/", "https://", "https://a b/", "https://x.example/#frag", "https://x.example/\n", "https://u@x/", "ftp://x"])
    func refusesBadIssuers(_ bad: String) {
        #expect(throws: WorkloadIdentityPlanner.Refusal.self) { try WorkloadIdentityPlanner.validateIssuer(bad) }
    }

    @Test func trailingSlashIsKeptVerbatim() throws {
        #expect(AgentDropIn.render(try enable([])).contains("\"service-account-issuer=\(issuer)\""))
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

import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl secret add NAME --vault V --object OBJ ...`: writes /etc/aios/secrets.d/NAME.yaml through aiosd.
struct SecretAddCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Sync a Key Vault secret (or certificate) to a Kubernetes Secret.",
        discussion: """
            Writes /etc/aios/secrets.d/NAME.yaml atomically after validating every name (Kubernetes names, the \
            vault and object names, keys); nothing is written if anything is wrong. The Secret NAME (or \
            --secret-name) in --namespace gets key --key (default: the object's name) with the value; with \
            --type tls it becomes a kubernetes.io/tls Secret (tls.crt leaf first then chain, tls.key) from a \
            certificate-backed secret (PEM or PKCS#12). The next sync picks it up; to sync now: aiosctl sync --wait.
            Operators may target only the namespaces in secrets.allowedNamespaces of /etc/aios/aiosd.yaml \
            (default azure-iot-operations), never kube-system, and name only the service accounts in \
            secrets.allowedServiceAccounts (besides identity.serviceAccount). Operators may set --client-id or \
            --tenant-id only under identity.method workloadIdentity (Entra then trusts only identities federated \
            with that service account); under managedIdentity or clientSecret they choose among the node's own \
            credentials, so only root may (uid 0 or control.k3sAdminGroup). Root is not bounded, and neither \
            are files root writes by hand in /etc/aios/secrets.d. A refusal exits 4 and writes nothing.
            Examples:
              aiosctl secret add db --vault contoso-kv --object db-password --key password
              aiosctl secret add opcua-trust --vault contoso-kv --object trust-der --encoding hex --key trust.der
              aiosctl secret add web-tls --vault contoso-kv --object web-cert --type tls
            """)

    @Argument(help: "The definition's name (also the Secret's name unless --secret-name).")
    var name: String

    @Option(name: .long, help: ArgumentHelp("The Key Vault's name (e.g. contoso-kv).", valueName: "vault"),
            completion: .custom(Completion.vaults))
    var vault: String

    @Option(name: .long, help: ArgumentHelp("The secret's (or certificate's) name in the vault.", valueName: "object"))
    var object: String

    @Option(name: .long, help: ArgumentHelp("The Secret's data key (default: the object's name; tls.crt with --type tls).", valueName: "key"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("The Secret's namespace (default: sync.defaultNamespace, azure-iot-operations).", valueName: "namespace"))
    var namespace: String?

    @Option(name: .long, help: ArgumentHelp("The Secret's name (default: NAME).", valueName: "name"))
    var secretName: String?

    @Option(name: .long, help: ArgumentHelp("Pin this version (32 hex characters) instead of following the latest.", valueName: "version"))
    var version: String?

    @Option(name: .long, help: ArgumentHelp("How the value is decoded: utf-8 (as is), hex or base64.", valueName: "encoding"),
            completion: .list(["utf-8", "hex", "base64"]))
    var encoding: String?

    @Option(name: .long, help: ArgumentHelp("opaque (default) or tls (kubernetes.io/tls from a certificate).", valueName: "type"),
            completion: .list(["opaque", "tls"]))
    var type: String?

    @Option(name: .long, help: ArgumentHelp("secret (default) or cert (the leaf certificate only, PEM).", valueName: "object-type"),
            completion: .list(["secret", "cert"]))
    var objectType: String?

    @Option(name: .long, help: ArgumentHelp("pem (default) or pfx (the PKCS#12 itself, base64 unless --encoding base64).", valueName: "format"),
            completion: .list(["pem", "pfx"]))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("Read the vault as this client id instead of identity.clientId (see above for who may).", valueName: "guid"))
    var clientId: String?

    @Option(name: .long, help: ArgumentHelp("Read the vault in this tenant instead of identity.tenantId (see above for who may).", valueName: "guid"))
    var tenantId: String?

    @Option(name: .long, help: ArgumentHelp("Workload identity: use this service account's tokens instead of identity.serviceAccount.", valueName: "namespace/name"))
    var serviceAccount: String?

    @Flag(name: .long, help: "Replace an existing definition of the same name.")
    var replace = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let encoding, !["utf-8", "hex", "base64"].contains(encoding) { throw ValidationError("--encoding must be utf-8, hex or base64") }
        if let type, !["opaque", "tls"].contains(type.lowercased()) { throw ValidationError("--type must be opaque or tls") }
        if let objectType, !["secret", "cert"].contains(objectType) { throw ValidationError("--object-type must be secret or cert") }
        if let format, !["pem", "pfx"].contains(format) { throw ValidationError("--format must be pem or pfx") }
    }

    func run(client: ControlClient, output: CommandOutput) throws -> SecretAddResponse {
        let tls = type?.lowercased() == "tls"
        let spec = SecretDefinitionInfo.ObjectSpec(objectName: object, objectType: objectType, objectVersion: version,
                                                   objectEncoding: encoding, objectFormat: format)
        let mapping = SecretDefinitionInfo.KeyMappingSpec(sourcePath: object, targetKey: key ?? (tls ? "tls.crt" : object))
        let definition = SecretDefinitionInfo(
            name: name, keyvaultName: vault, tenantId: tenantId, clientID: clientId, serviceAccountName: serviceAccount, objects: [spec],
            secretObject: .init(namespace: namespace, name: secretName, type: tls ? "kubernetes.io/tls" : "Opaque", data: [mapping]))
        return try client.call(API.secretAdd, SecretAddRequest(definition: definition, replace: replace))
    }

    func render(_ response: SecretAddResponse, wide: Bool) -> String {
        let target = "\(response.definition.secretObject.namespace ?? "?")/\(response.definition.secretObject.name ?? name)"
        return "\(response.replaced ? "Replaced" : "Added") \(name): \(vault)/\(object) -> Secret \(target) (\(response.file))\n"
            + "sync now with: aiosctl sync --wait"
    }
}

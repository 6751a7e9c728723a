import ArgumentParser

/// `aiosctl secret add|remove|list|show`: the Key Vault secrets aiosd syncs to Kubernetes Secrets.
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Add, remove and inspect the Key Vault secrets aiosd syncs to Kubernetes Secrets.",
        discussion: """
            Each synced secret is a definition file in /etc/aios/secrets.d/NAME.yaml, in the vocabulary of the \
            Secret Synchronization Controller (keyvaultName, objects with objectName/objectType/objectVersion/\
            objectVersionHistory/objectAlias/objectEncoding/objectFormat, secretObject with namespace/name/type/\
            labels/annotations/data sourcePath -> targetKey). These commands write and read those files through \
            aiosd; files edited by hand count too. No value is ever shown.
            """,
        subcommands: [SecretListCommand.self, SecretShowCommand.self, SecretAddCommand.self, SecretRemoveCommand.self],
        defaultSubcommand: SecretListCommand.self)
}

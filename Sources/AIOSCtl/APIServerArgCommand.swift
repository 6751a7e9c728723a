import ArgumentParser

/// `aiosctl k3s apiserver-arg ...`.
struct APIServerArgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver-arg",
        abstract: "Manage the kube-apiserver arguments aiosd keeps in /etc/rancher/k3s/config.yaml.d/90-aios.yaml.",
        subcommands: [APIServerArgListCommand.self, APIServerArgSetCommand.self, APIServerArgUnsetCommand.self])
}

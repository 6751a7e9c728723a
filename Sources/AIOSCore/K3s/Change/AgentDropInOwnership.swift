/// What the agent may do with its drop-in as found: it rewrites the whole file, so it must not hold anything the
/// agent did not write. Settings other than the agent's `kube-apiserver-arg+` are never dropped (refused, even
/// with force); hand edits to the agent's own entries (drift from what aiosd last wrote) need `force`.
public enum AgentDropInOwnership {
    /// The agent's arguments in `text` (nil: no file), or why the agent must not rewrite it.
    /// - Parameter lastWritten: what aiosd last wrote there (nil: no record, e.g. written by 0.1).
    public static func arguments(in text: String?, path: String, lastWritten: String?, force: Bool) throws(K3sChangeError) -> [APIServerArgument] {
        guard let text else { return [] }
        let entries: [K3sConfigMerger.Entry]
        let arguments: [APIServerArgument]
        do {
            entries = try K3sConfigMerger().entries(of: text, path: path)
            arguments = try AgentDropIn.arguments(in: text, path: path)
        } catch {
            throw K3sChangeError(.invalidConfiguration, "cannot read \(path): \(error)", hint: "fix or remove \(path)")
        }
        let foreign = entries.map(\.key).filter { $0 != AgentDropIn.key }
        if !foreign.isEmpty {
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            throw K3sChangeError(.refused, "\(path) holds settings aiosd did not write (\(foreign.joined(separator: ", "))), which its next rewrite would drop",
                                 hint: "move them to another file in \(directory) (for example 80-local.yaml), then try again")
        }
        let expected = lastWritten ?? AgentDropIn.render(arguments)
        if text != expected && !force {
            throw K3sChangeError(.refused, "\(path) was edited by hand since aiosd last wrote it, and this change would overwrite those edits",
                                 hint: "compare it with: aiosctl k3s apiserver-arg list; repeat with --force to let aiosd rewrite it from the entries it holds now")
        }
        return arguments
    }
}

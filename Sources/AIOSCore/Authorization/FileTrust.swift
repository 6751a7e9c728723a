import Glibc

/// Whether a file that another root process will read (a K3s flag naming a file) can only have been put
/// there by root: the file and every directory above it owned by uid 0 and not writable by group or others,
/// with no symbolic link on the way (a link or a writable directory would let another user swap the file).
public struct FileTrust: Sendable {
    /// What `lstat` says about one path (injected so the policy stays testable).
    public struct Facts: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case file, directory, symlink, other }
        public var kind: Kind
        public var owner: UInt32
        public var mode: UInt32

        public init(kind: Kind, owner: UInt32, mode: UInt32) {
            self.kind = kind
            self.owner = owner
            self.mode = mode
        }
    }

    let inspect: @Sendable (String) -> Facts?

    public init(inspect: @escaping @Sendable (String) -> Facts?) { self.inspect = inspect }

    /// The host's file system, without following links.
    public static let host = FileTrust { path in
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let kind: Facts.Kind = switch info.st_mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: .other
        }
        return Facts(kind: kind, owner: info.st_uid, mode: info.st_mode & 0o7777)
    }

    /// Why `path` cannot be trusted, or nil if it can. With `mayBeAbsent` (a file the API server creates,
    /// such as its audit log), only the directories above it must exist and be trusted.
    public func problem(with path: String, mayBeAbsent: Bool = false) -> String? {
        guard path.hasPrefix("/") else { return "\(path) is not an absolute path" }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return "\(path) is not a plain absolute path (no '.', '..', '//' or trailing '/')"
        }
        if let problem = problem(at: "/", facts: inspect("/"), last: false) { return problem }
        var current = ""
        for (index, component) in components.enumerated() {
            current += "/" + component
            let last = index == components.count - 1
            guard let facts = inspect(current) else {
                if last && mayBeAbsent { return nil }
                return "\(current) does not exist"
            }
            if let problem = problem(at: current, facts: facts, last: last) { return problem }
        }
        return nil
    }

    private func problem(at path: String, facts: Facts?, last: Bool) -> String? {
        guard let facts else { return "\(path) does not exist" }
        if facts.kind == .symlink { return "\(path) is a symbolic link; name the file it points to" }
        if !last && facts.kind != .directory { return "\(path) is not a directory" }
        if facts.owner != 0 { return "\(path) is owned by uid \(facts.owner), not root; fix with: chown root: \(path)" }
        if facts.mode & 0o022 != 0 {
            return "\(path) is writable by group or others (mode \(String(facts.mode, radix: 8))); fix with: chmod go-w \(path)"
        }
        return nil
    }
}

import FoundationEssentials
import Glibc

/// Who listens on a local TCP port, from the kernel's socket tables (/proc/net/tcp and tcp6: each socket's state,
/// local address and owning uid). Before aiosd answers Azure Arc's key-file challenge it checks that the listener
/// on the Arc port is root's or the Arc agent's (`himds`): any local user who bound the port first would
/// otherwise receive the key file's contents.
public enum LocalListener {
    public static let tables = ["/proc/net/tcp", "/proc/net/tcp6"]
    /// The Azure Connected Machine agent's service user.
    public static let arcAgentUser = "himds"

    /// The uids of the sockets listening on `port` (any local address).
    public static func owners(ofPort port: Int, tables: [String] = tables) -> Set<UInt32> {
        var owners: Set<UInt32> = []
        for table in tables {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            owners.formUnion(parse(text, port: port))
        }
        return owners
    }

    /// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...`; LISTEN is state 0A.
    static func parse(_ table: String, port: Int) -> Set<UInt32> {
        var owners: Set<UInt32> = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, fields[3] == "0A",
                  let colon = fields[1].lastIndex(of: ":"), Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port,
                  let uid = UInt32(fields[7]) else { continue }
            owners.insert(uid)
        }
        return owners
    }

    /// The uid of `user`, if the account exists.
    public static func uid(of user: String) -> UInt32? {
        guard let entry = getpwnam(user) else { return nil }
        return entry.pointee.pw_uid
    }

    /// Nil if every listener on `port` is root's or `user`'s (and there is one); otherwise why not.
    public static func problem(port: Int, trustedUser: String = arcAgentUser, tables: [String] = tables) -> String? {
        let owners = owners(ofPort: port, tables: tables)
        guard !owners.isEmpty else { return "nothing is listening on port \(port)" }
        var trusted: Set<UInt32> = [0]
        if let agent = uid(of: trustedUser) { trusted.insert(agent) }
        let strangers = owners.subtracting(trusted)
        guard strangers.isEmpty else {
            return "the listener on port \(port) belongs to uid \(strangers.sorted().map(String.init).joined(separator: ", ")), not root or \(trustedUser)"
        }
        return nil
    }
}

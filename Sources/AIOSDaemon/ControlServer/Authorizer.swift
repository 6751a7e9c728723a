import AIOSAPI
import Glibc

/// Establishes a peer's level (README "Security"): root for uid 0 and members of `control.k3sAdminGroup`,
/// operator for members of `control.adminGroup`, reader for anyone else who could connect (the socket's
/// group). Membership, primary or supplementary, is read from the group database at request time, so
/// `usermod -aG` takes effect at once.
public struct Authorizer: Sendable {
    public let adminGroup: String
    public let k3sAdminGroup: String?

    public init(adminGroup: String, k3sAdminGroup: String? = nil) {
        self.adminGroup = adminGroup
        self.k3sAdminGroup = k3sAdminGroup
    }

    public func level(of peer: PeerCredentials) -> AccessLevel {
        if peer.uid == 0 { return .root }
        let groups = Self.groups(ofUID: peer.uid, primary: peer.gid)
        if let k3sAdminGroup, let gid = Self.groupID(named: k3sAdminGroup), groups.contains(gid) { return .root }
        if let gid = Self.groupID(named: adminGroup), groups.contains(gid) { return .operator }
        return .reader
    }

    /// Who holds `level`, in words, for refusals.
    public func holders(of level: AccessLevel) -> String {
        switch level {
        case .reader: "members of the socket group"
        case .operator: "root or members of group '\(adminGroup)'"
        case .root: k3sAdminGroup.map { "root or members of group '\($0)' (control.k3sAdminGroup)" } ?? "root (uid 0) only"
        }
    }

    /// How to become `level`, for refusal hints.
    public func howToBecome(_ level: AccessLevel) -> String {
        switch level {
        case .reader, .operator: "run as root, or: usermod -aG \(adminGroup) <user>"
        case .root: k3sAdminGroup.map { "run as root, or: usermod -aG \($0) <user>" } ?? "run as root (sudo)"
        }
    }

    static func groupID(named name: String) -> gid_t? {
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return group.gr_gid
    }

    /// The peer's primary group and, if its uid has a passwd entry, every group the database lists for it.
    static func groups(ofUID uid: uid_t, primary: gid_t) -> [gid_t] {
        var passwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwuid_r(uid, &passwd, &buffer, buffer.count, &result) == 0, result != nil, let name = passwd.pw_name else {
            return [primary]
        }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        return Array(groups.prefix(Int(count)))
    }
}

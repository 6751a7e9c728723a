import Glibc

/// Decides whether a peer may make mutating requests: uid 0, or a member of the admin group
/// (primary or supplementary, read from the group database at request time, so `usermod -aG` takes effect at once).
public struct Authorizer: Sendable {
    public let adminGroup: String

    public init(adminGroup: String) { self.adminGroup = adminGroup }

    public func mayMutate(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 { return true }
        guard let adminGID = Self.groupID(named: adminGroup) else { return false }
        if peer.gid == adminGID { return true }
        return Self.groups(ofUID: peer.uid, primary: peer.gid).contains(adminGID)
    }

    static func groupID(named name: String) -> gid_t? {
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return group.gr_gid
    }

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

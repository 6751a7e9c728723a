import AIOSHTTP
import FoundationEssentials
import Glibc

/// The host side of `aiosctl doctor` that needs no cluster: the issuer's discovery document as Entra ID fetches it,
/// and whether aiosd (inside its systemd sandbox) can write where it must. Blocking.
public enum DoctorHostProbe {
    /// `GET {issuer}/.well-known/openid-configuration` over HTTPS with the system's trust, as Entra ID does.
    public static func discovery(issuer: String, timeout: Duration = .seconds(10)) -> DoctorFacts.DiscoveryOutcome {
        let url = Doctor.discoveryURL(issuer)
        let response: HTTPResponse
        do {
            response = try HTTPClient().send(HTTPRequest(method: .get, url: url, headers: [("Accept", "application/json")], timeout: timeout,
                                                         usesOutboundProxy: true, maximumResponseBytes: 256 << 10))
        } catch {
            return .unreachable(error.message)
        }
        guard response.status == 200 else { return .status(response.status) }
        let object = JSONValue.object(parsing: response.body)
        return .served(issuer: object?["issuer"]?.string, jwksURI: object?["jwks_uri"]?.string)
    }

    /// Creates and removes a file in each directory, or in its parent while it does not exist yet (aiosd creates it
    /// there); skipped when neither exists (e.g. no K3s). The error is the system's (`Read-only file system` under
    /// ProtectSystem=strict).
    public static func writable(_ directories: [String]) -> [DoctorFacts.WriteOutcome] {
        directories.compactMap { wanted in
            let parent = String(wanted[..<(wanted.lastIndex(of: "/") ?? wanted.endIndex)])
            guard let directory = [wanted, parent].first(where: isDirectory) else { return nil }
            let probe = directory + "/.aiosd-doctor-\(getpid())"
            let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { return DoctorFacts.WriteOutcome(path: directory, error: String(cString: strerror(errno))) }
            close(fd)
            unlink(probe)
            return DoctorFacts.WriteOutcome(path: directory, error: nil)
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return !path.isEmpty && stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}

import AIOSClient
import ArgumentParser

/// aiosctl's documented exit statuses.
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let failed: Int32 = 1
    public static let usage: Int32 = 2
    public static let unreachable: Int32 = 3
    public static let permissionDenied: Int32 = 4
    /// aiosd is running but busy: it did not answer in time, refused the connection as one too many, or closed it
    /// without answering.
    public static let busy: Int32 = 5

    static func code(for kind: ClientError.Kind) -> Int32 {
        switch kind {
        case .unreachable: unreachable
        case .permissionDenied: permissionDenied
        case .busy: busy
        case .failed: failed
        }
    }
}

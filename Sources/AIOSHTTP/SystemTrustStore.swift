internal import CTLS
import Glibc
import Synchronization

/// The host's trust anchors (the CA bundle and CA directory Debian's libcurl and OpenSSL use) read once and shared by every new TLS
/// connection, instead of libcurl reading the bundle again for each one: with OpenSSL 3 a read of Debian's bundle
/// costs tens of milliseconds of CPU, over a quarter of a first sync's. The bundle is read again when its file
/// changes (`update-ca-certificates` replaces it), so a CA added to the host is trusted from the next new
/// connection on, as before. The file is looked at once a `recheckInterval` at most: every request asks for the
/// store, and a stat of the bundle per request was 1.5% of a first sync's CPU (perf).
public final class SystemTrustStore: Sendable {
    /// The store for every connection of the process: the files Debian's and Ubuntu's libcurl is built to trust
    /// (held to libcurl's compiled-in defaults by a test), named here so that asking does not load libcurl.
    public static let shared = SystemTrustStore(file: defaultFile, directory: defaultDirectory)
    static let defaultFile = "/etc/ssl/certs/ca-certificates.crt"
    static let defaultDirectory = "/etc/ssl/certs"

    private struct State {
        var file: FileIdentity?
        var store: LoadedTrustStore?
        var checked: ContinuousClock.Instant?
        var loads = 0
    }

    private let file: String?
    /// Also where the trust of a request's own CA bundle is completed, unless it trusts only that bundle.
    let directory: String?
    private let recheckInterval: Duration
    private let state = Mutex(State())

    /// - Parameters:
    ///   - file: a PEM bundle of trusted certificates; nil: libcurl keeps its own settings.
    ///   - directory: an OpenSSL hashed certificate directory, consulted when a chain needs a CA not in `file`.
    ///   - recheckInterval: how long a look at the file holds (a replaced bundle is used within this time).
    public init(file: String?, directory: String?, recheckInterval: Duration = .seconds(1)) {
        self.file = file
        self.directory = directory
        self.recheckInterval = recheckInterval
    }

    /// How many times the bundle was read (once, then once per change of the file).
    public var loads: Int { state.withLock { $0.loads } }

    /// The store for a new connection, or nil when there is no bundle to read (libcurl then does as it always did,
    /// and fails with its own error if it finds no CA either).
    func current() -> LoadedTrustStore? {
        guard let file else { return nil }
        let now = ContinuousClock.now
        if let store = state.withLock({ state in state.checked.map { now - $0 < recheckInterval } == true ? state.store : nil }) {
            return store
        }
        var info = stat()
        guard stat(file, &info) == 0 else { return nil }
        let identity = FileIdentity(info)
        return state.withLock { state in
            state.checked = now
            if state.file == identity { return state.store }
            // Read under the lock: the threads asking meanwhile wait for this one read instead of each doing it.
            state.store = LoadedTrustStore(file: file, directory: directory)
            state.file = identity
            state.loads += 1
            return state.store
        }
    }
}

/// One read of the trust anchors. A connection being set up holds it, so a reload meanwhile cannot free it early;
/// each TLS context that uses it takes its own OpenSSL reference.
final class LoadedTrustStore: @unchecked Sendable {
    // @unchecked: the X509_STORE is never changed after it is read; OpenSSL locks its own lookups.
    let pointer: UnsafeMutableRawPointer

    init?(file: String, directory: String?) {
        guard let pointer = aios_x509_store_load(file, directory) else { return nil }
        self.pointer = pointer
    }

    deinit { aios_x509_store_free(pointer) }
}

/// What tells a replaced file from the one read: the same path with another inode, size or change time.
private struct FileIdentity: Equatable {
    var device: UInt
    var inode: UInt
    var size: Int
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int
    var changedSeconds: Int
    var changedNanoseconds: Int

    init(_ info: stat) {
        device = UInt(info.st_dev)
        inode = UInt(info.st_ino)
        size = Int(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
        changedSeconds = info.st_ctim.tv_sec
        changedNanoseconds = info.st_ctim.tv_nsec
    }
}

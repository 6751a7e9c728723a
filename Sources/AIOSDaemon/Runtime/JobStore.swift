import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging
import Synchronization

/// Recent host jobs, kept in memory and in `/var/lib/aiosd/jobs.json` so they survive a restart of aiosd.
/// A job that was queued or running when aiosd stopped is marked `interrupted` at the next start.
public final class JobStore: Sendable {
    public static let defaultPath = Defaults.stateDirectory + "/jobs.json"
    static let kept = 50

    private let jobs: Mutex<[JobRecord]>
    private let path: String?
    private let logger: Logger

    init(path: String? = JobStore.defaultPath, logger: Logger) {
        self.path = path
        self.logger = logger
        var loaded: [JobRecord] = []
        if let path, let data = FileManager.default.contents(atPath: path),
           let decoded = try? APICoding.decoder().decode([JobRecord].self, from: data) {
            loaded = decoded.map { job in
                var job = job
                if job.state == .queued || job.state == .running {
                    job.state = .interrupted
                    job.finishedAt = job.finishedAt ?? Date()
                }
                return job
            }
        }
        jobs = Mutex(loaded)
    }

    func create(kind: String) -> (record: JobRecord, position: Int) {
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
        let record = JobRecord(id: id, kind: kind, state: .queued, queuedAt: Date())
        let position = jobs.withLock { jobs in
            let ahead = jobs.filter { $0.state == .queued || $0.state == .running }.count
            jobs.append(record)
            if jobs.count > Self.kept { jobs.removeFirst(jobs.count - Self.kept) }
            return ahead
        }
        persist()
        return (record, position)
    }

    @discardableResult
    func update(_ id: String, _ body: (inout JobRecord) -> Void) -> JobRecord? {
        let (updated, finished) = jobs.withLock { jobs -> (JobRecord?, Bool) in
            guard let index = jobs.firstIndex(where: { $0.id == id }) else { return (nil, false) }
            let wasActive = jobs[index].state == .queued || jobs[index].state == .running
            body(&jobs[index])
            return (jobs[index], wasActive && jobs[index].state != .queued && jobs[index].state != .running)
        }
        if finished, let updated {
            MetricsRegistry.shared.increment(MetricsExposition.hostJobs, ["kind": updated.kind, "outcome": updated.state.rawValue])
        }
        persist()
        return updated
    }

    func list() -> [JobRecord] { jobs.withLock { $0 } }

    func get(_ id: String) -> JobRecord? { jobs.withLock { $0.first { $0.id == id } } }

    private func persist() {
        guard let path else { return }
        let snapshot = list()
        do {
            let data = try APICoding.encoder().encode(snapshot)
            try AtomicFile.write(String(decoding: data, as: UTF8.self), to: path, mode: 0o600)
        } catch {
            // Only outside systemd (no state directory) does this fail; jobs then live in memory only.
            logger.debug("Cannot persist jobs", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

import AIOSCore
import Synchronization

/// The threads a sync cycle spreads its vault fetches and Secret writes over: a pool of `sync.concurrency`
/// threads, made again when a reload changes that number (the previous one ends with its last work).
final class SyncWorkers: BlockingWorkers {
    private let pool = Mutex<BlockingPool?>(nil)

    func execute(width: Int, _ work: @escaping @Sendable () -> Void) {
        let current = pool.withLock { pool in
            if let existing = pool, existing.size == width { return existing }
            let made = BlockingPool(threads: width)
            pool = made
            return made
        }
        current.submit(work)
    }
}

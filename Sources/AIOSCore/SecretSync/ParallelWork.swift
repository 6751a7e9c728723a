import Dispatch

/// Blocking work (HTTP requests) spread over a bounded number of threads.
enum ParallelWork {
    /// Runs `body` for every item on up to `width` threads at once and waits for all.
    static func run<T: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) -> Void) {
        guard !items.isEmpty else { return }
        if items.count == 1 || width <= 1 {
            items.forEach(body)  // nothing to overlap: no thread hop
            return
        }
        let queue = DispatchQueue(label: "aiosd.sync.work", attributes: .concurrent)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: max(1, width))
        for item in items {
            slots.wait()
            queue.async(group: group) {
                defer { slots.signal() }
                body(item)
            }
        }
        group.wait()
    }
}

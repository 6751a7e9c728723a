internal import CMalloc

/// glibc's allocator and a daemon that works in bursts: a sync cycle of 10,000 definitions frees most of what it
/// allocated, but glibc keeps freed chunks in per-thread arenas (up to 8 per core), so the resident memory stayed at
/// the cycle's high mark (measured with malloc_info at 10,000 definitions: 88 of 134 MB held were free chunks).
enum ProcessMemory {
    /// Two arenas: the cycle's worker threads share them instead of each growing its own. Called once at start.
    static func limitArenas() {
        _ = aios_malloc_limit_arenas(2)
    }

    /// Hands the pages of freed chunks back to the kernel (after a cycle; it takes a few milliseconds).
    static func returnFreedPages() {
        _ = aios_malloc_trim()
    }
}

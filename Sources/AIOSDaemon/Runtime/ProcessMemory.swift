internal import CMalloc

/// glibc's allocator and a daemon that works in bursts: a sync cycle of 10,000 definitions frees most of what it
/// allocated, but glibc keeps freed chunks in per-thread arenas (up to 8 per core), so the resident memory stayed at
/// the cycle's high mark (measured with malloc_info at 10,000 definitions: 88 of 134 MB held were free chunks).
enum ProcessMemory {
    /// Two arenas: the cycle's worker threads share them instead of each growing its own. Called once at start.
    static func limitArenas() {
        _ = aios_malloc_limit_arenas(2)
    }

    /// Blocks of 128 KiB or more (list pages, a cycle's tables at 10,000 definitions, the state file's bytes) get
    /// their own mapping and go back to the kernel when freed. glibc starts at that threshold but raises it to the
    /// size of each such block freed (up to 32 MiB), after which they come from the heap, where a freed table sits
    /// among live chunks until the cycle's end. Called once at start.
    static func mapLargeBlocks() {
        _ = aios_malloc_map_from(largeBlockBytes)
    }

    static let largeBlockBytes: Int32 = 128 * 1024

    /// Bytes in blocks malloc mapped on their own (tests).
    static var mappedBytes: Int { Int(aios_malloc_mapped_bytes()) }

    /// Hands the pages of freed chunks back to the kernel (after a cycle; it takes a few milliseconds).
    static func returnFreedPages() {
        _ = aios_malloc_trim()
    }
}

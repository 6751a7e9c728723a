internal import CLoader
#if canImport(Glibc)
import Glibc
#endif

/// aiosd's relocation table: 63,000 entries (1.4 MiB) that the dynamic loader reads once, as aiosd starts, to fill in
/// the addresses of a position-independent executable. aiosd is linked `-z now`, so nothing is resolved later and
/// nothing reads the table again, yet its pages stayed mapped: 7% of the idle daemon's resident memory
/// (packaging/README.md, "Code layout"). They are clean pages of the file: dropped, they stay in the page cache for
/// the kernel to keep or reclaim, and a read would map them again from there.
enum RelocationTable {
    /// Unmaps the whole pages of the table; the bytes released (0 if there is no such table or madvise refused).
    /// Called once at start, after the loader is done.
    @discardableResult
    static func release() -> Int {
        guard let pages = wholePages() else { return 0 }
        return madvise(UnsafeMutableRawPointer(bitPattern: pages.lowerBound), pages.count, MADV_DONTNEED) == 0 ? pages.count : 0
    }

    /// The pages that lie wholly inside the table (its first and last pages are shared with other sections).
    static func wholePages() -> Range<UInt>? {
        var start: UInt = 0, length = 0
        guard aios_executable_relocation_table(&start, &length) == 1 else { return nil }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let first = (start + page - 1) / page * page, end = (start + UInt(length)) / page * page
        return end > first ? first..<end : nil
    }
}

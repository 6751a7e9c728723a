@testable import AIOSDaemon
import Foundation
import Testing

/// The test process is a position-independent executable with a relocation table of its own, as aiosd is.
@Suite struct RelocationTableTests {
    /// After release, none of the table's whole pages is mapped (/proc/self/pagemap: present bit clear), and the
    /// process goes on: the pages were the loader's, read at start only.
    @Test func releaseUnmapsTheTablesPages() throws {
        let pages = try #require(RelocationTable.wholePages(), "the test executable has a relocation table of whole pages")
        try #require(try mappedPages(in: pages) > 0, "the loader's reading left the table's pages mapped")
        let released = RelocationTable.release()
        #expect(released == pages.count)
        let mapped = try mappedPages(in: pages)
        #expect(mapped == 0, "\(mapped) of \(pages.count / 4096) pages of the relocation table still mapped")
    }

    /// A page is mapped when its pagemap entry has bit 63 set (Documentation/admin-guide/mm/pagemap.rst).
    private func mappedPages(in pages: Range<UInt>) throws -> Int {
        let pagemap = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/pagemap"))
        defer { try? pagemap.close() }
        try pagemap.seek(toOffset: UInt64(pages.lowerBound / 4096 * 8))
        let entries = try pagemap.read(upToCount: pages.count / 4096 * 8) ?? Data()
        return stride(from: 0, to: entries.count, by: 8).filter { offset in
            entries[entries.startIndex + offset + 7] & 0x80 != 0
        }.count
    }
}

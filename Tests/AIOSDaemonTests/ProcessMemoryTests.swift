@testable import AIOSDaemon
import Testing

/// With the threshold fixed, a block of 128 KiB or more is mapped on its own even after a larger one was freed
/// (glibc alone raises its threshold to the freed block's size, and the next such block comes from the heap).
@Suite struct ProcessMemoryTests {
    /// Whether glibc gave `block` a mapping of its own: the chunk header before it (its size) has IS_MMAPPED (0x2)
    /// set. Asked of the block itself, not of the process's mapped bytes, which other tests running in parallel
    /// move too (a reading of those failed five tries in a row under a loaded CI run).
    static func isMapped(_ block: UnsafeMutableRawPointer) -> Bool {
        block.load(fromByteOffset: -MemoryLayout<UInt>.size, as: UInt.self) & 0x2 != 0
    }

    @Test func largeBlocksStayMappedAfterALargerOneIsFreed() {
        ProcessMemory.mapLargeBlocks()
        // What would raise glibc's own threshold to 8 MiB.
        let larger = UnsafeMutableRawPointer.allocate(byteCount: 8 << 20, alignment: 16)
        larger.storeBytes(of: 1, as: UInt8.self)
        larger.deallocate()

        let block = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        #expect(Self.isMapped(block), "a 1 MiB block after an 8 MiB one was freed comes from the heap")
        // The header is read right: a small block is in the heap, one above glibc's largest threshold is mapped.
        let small = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 16)
        defer { small.deallocate() }
        #expect(!Self.isMapped(small))
        let huge = UnsafeMutableRawPointer.allocate(byteCount: 64 << 20, alignment: 16)
        defer { huge.deallocate() }
        #expect(Self.isMapped(huge))
    }
}

@testable import AIOSDaemon
import Testing

/// With the threshold fixed, a block of 128 KiB or more is mapped on its own even after a larger one was freed
/// (glibc alone raises its threshold to the freed block's size, and the next such block comes from the heap).
@Suite struct ProcessMemoryTests {
    @Test func largeBlocksStayMappedAfterALargerOneIsFreed() {
        ProcessMemory.mapLargeBlocks()
        // What would raise glibc's own threshold to 8 MiB.
        let larger = UnsafeMutableRawPointer.allocate(byteCount: 8 << 20, alignment: 16)
        larger.storeBytes(of: 1, as: UInt8.self)
        larger.deallocate()

        // Other tests run meanwhile and may free mapped blocks of their own between the two readings: of five
        // tries, one must show our 1 MiB.
        var deltas: [Int] = []
        for _ in 0..<5 {
            let before = ProcessMemory.mappedBytes
            let block = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
            block.storeBytes(of: 1, as: UInt8.self)
            deltas.append(ProcessMemory.mappedBytes - before)
            block.deallocate()
        }
        #expect(deltas.contains { $0 >= 1 << 20 }, "mapped bytes while a 1 MiB block was held: \(deltas)")
    }
}

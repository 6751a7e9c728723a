@testable import AIOSDaemon
import Synchronization
import Testing

/// The lines of a streamed reply (`LineBatches`): the writer takes every line there is per wakeup, whole and in
/// order, and none is lost.
@Suite struct LineBatchesTests {
    static func line(_ index: Int) -> [UInt8] { Array("{\"n\":\(index)}\n".utf8) }

    static func collect(_ lines: LineBatches, window: Duration = .milliseconds(50)) async -> [[UInt8]] {
        let batches = Mutex<[[UInt8]]>([])
        await lines.forEachBatch(window: window) { batch in batches.withLock { $0.append(batch) } }
        return batches.withLock { $0 }
    }

    /// A steady cycle reports its 10,000 definitions in well under a second: lines made before the writer looks
    /// are all in its first batch (an AsyncStream of lines with a timer-ended batch wrote them a few at a time).
    @Test func linesMadeBeforeTheWriterLooksAreOneBatch() async {
        let lines = LineBatches()
        for index in 0..<10_000 { lines.yield(Self.line(index)) }
        lines.finish()
        let batches = await Self.collect(lines)
        #expect(batches.count == 1)
        #expect(batches.first == (0..<10_000).flatMap(Self.line))
    }

    /// Lines made while the writer writes (a first sync, a few hundred a second): every line once, in order, in
    /// far fewer batches than lines.
    @Test func linesMadeMeanwhileAreAllWrittenInOrder() async throws {
        let lines = LineBatches()
        let producer = Task.detached {
            for index in 0..<2_000 {
                lines.yield(Self.line(index))
                if index % 100 == 99 { try? await Task.sleep(for: .milliseconds(5)) }
            }
            lines.finish()
        }
        let batches = await Self.collect(lines, window: .milliseconds(20))
        await producer.value
        #expect(batches.joined().elementsEqual((0..<2_000).flatMap(Self.line)))
        #expect(batches.count < 200, "\(batches.count) batches")
        #expect(batches.allSatisfy { $0.last == 0x0A }, "whole lines")
    }

    /// A job that ends without a line ends the stream; lines after `finish` are dropped.
    @Test func finishEndsTheBatchesAndLaterLinesAreDropped() async {
        let empty = LineBatches()
        empty.finish()
        #expect(await Self.collect(empty).isEmpty)

        let lines = LineBatches()
        lines.yield(Self.line(1))
        lines.finish()
        lines.yield(Self.line(2))
        #expect(await Self.collect(lines) == [Self.line(1)])
    }
}

import AIOSCore
@testable import AIOSDaemon
import Testing

/// The schedule the README promises: every `sync.interval` plus up to `sync.jitter`, and after failures
/// `sync.retryAfterFailure` doubling, never beyond the interval.
@Suite struct SecretSyncScheduleTests {
    var sync: SyncConfiguration {
        var sync = SyncConfiguration()
        sync.interval = .seconds(600)
        sync.jitter = .seconds(60)
        sync.retryAfterFailure = .seconds(30)
        return sync
    }

    @Test func afterASuccessTheIntervalPlusJitter() {
        #expect(SecretSyncService.nextDelay(failures: 0, sync: sync, random: { 0 }) == .seconds(600))
        #expect(SecretSyncService.nextDelay(failures: 0, sync: sync, random: { 0.5 }) == .seconds(630))
        #expect(SecretSyncService.nextDelay(failures: 0, sync: sync, random: { 1 }) == .seconds(660))
        // The default source of randomness spreads hosts over the whole jitter window.
        let delays = Set((0..<50).map { _ in SecretSyncService.nextDelay(failures: 0, sync: sync) })
        #expect(delays.count > 10)
        #expect(delays.allSatisfy { $0 >= .seconds(600) && $0 <= .seconds(660) })
    }

    @Test func withoutJitterExactlyTheInterval() {
        var sync = sync
        sync.jitter = .zero
        #expect(SecretSyncService.nextDelay(failures: 0, sync: sync, random: { 0.9 }) == .seconds(600))
    }

    @Test func afterFailuresTheRetryDoublesUpToTheInterval() {
        let delays = (1...6).map { SecretSyncService.nextDelay(failures: $0, sync: sync, random: { 1 }) }
        #expect(delays == [.seconds(30), .seconds(60), .seconds(120), .seconds(240), .seconds(480), .seconds(600)])
        #expect(SecretSyncService.nextDelay(failures: 1000, sync: sync) == .seconds(600))
    }
}

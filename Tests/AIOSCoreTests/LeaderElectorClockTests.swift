@testable import AIOSCore
import Foundation
import Testing

/// Failover within one lease duration: a follower whose clock agrees with the leader's counts the lease from the
/// leader's renewTime, not from when it happened to see the renewal (client-go's observedTime, up to a retry
/// period later); a skewed clock falls back to observedTime. Two clocks on one virtual timeline: the leader's
/// (true time) and the follower's (true time + skew).
@Suite struct LeaderElectorClockTests {
    let store = FakeLeaseStore()
    let clock = FakeClock()

    func node(_ name: String, skew: TimeInterval = 0, settings: LeaderElectionSettings = LeaderElectionSettings())
        -> (elector: LeaderElector, connection: FakeLeaseStore.Connection) {
        let connection = FakeLeaseStore.Connection(store, who: name)
        let clock = self.clock
        return (LeaderElector(identity: name, settings: settings, client: connection, now: { clock.now.addingTimeInterval(skew) }), connection)
    }

    /// a leads and renews every 2 s; b looks `lag` seconds after each renewal; a dies right after its renewal at
    /// t = 10 (true time). Returns when (true seconds after a's last renewal) b first leads, b stepping every 0.05 s.
    func takeover(skew: TimeInterval, lag: TimeInterval = 1.9, settings: LeaderElectionSettings = LeaderElectionSettings())
        -> (after: TimeInterval, leader: LeaderElector, follower: LeaderElector) {
        let (a, aLink) = node("a", settings: settings), (b, _) = node("b", skew: skew, settings: settings)
        #expect(a.step() == [.becameLeader])
        for _ in 0..<5 {
            clock.advance(lag)
            b.step()
            clock.advance(2 - lag)
            a.step()
        }
        let lastRenewal = clock.now
        aLink.partitioned = true  // kill -9: no more renewals
        clock.advance(lag)
        b.step()  // b sees the last renewal, lag seconds late
        while !b.view.leading && clock.now.timeIntervalSince(lastRenewal) < 40 {
            clock.advance(0.05)
            b.step()
        }
        return (clock.now.timeIntervalSince(lastRenewal), a, b)
    }

    @Test func agreeingClocksFailOverOneLeaseDurationAfterTheLastRenewal() {
        let (after, _, b) = takeover(skew: 0)
        #expect(b.view.leading)
        #expect(after >= 15 && after < 15.1, "lease 15 s from the renewal, not from b's sighting 1.9 s later: \(after)")
    }

    @Test func aFollowerKnowsWhenToLookAgain() {
        let (a, _) = node("a"), (b, _) = node("b")
        a.step()
        clock.advance(1)
        b.step()
        #expect(a.secondsUntilExpiry == nil, "the leader does not wait for itself")
        #expect(b.secondsUntilExpiry.map { abs($0 - 14) < 0.001 } == true)
    }

    @Test func aClockAheadBeyondTheWindowFallsBackToObservedTime() {
        // b's clock is 5 s ahead: the renewal looks 6.9 s old, more than polling explains.
        let (after, _, b) = takeover(skew: 5)
        #expect(b.view.leading)
        #expect(after >= 16.9 && after < 17, "client-go's rule: 15 s from b's sighting at 1.9 s: \(after)")
    }

    @Test func aClockBehindBeyondTheToleranceFallsBackToObservedTime() {
        // b's clock is 4 s behind: the renewal looks 2.1 s in the future.
        let (after, _, _) = takeover(skew: -4)
        #expect(after >= 16.9 && after < 17, "\(after)")
    }

    @Test func aSlightlySkewedClockStillTakesOverOnlyAfterTheLeadersFenceClosed() {
        // b's clock 1.9 s ahead, sighting 1.9 s late: apparent age 3.8 s, within the window (2 × 1.2 + 1.5 = 3.9 s).
        let (after, a, b) = takeover(skew: 1.9)
        #expect(b.view.leading)
        #expect(after >= 13.1 && after < 13.2, "takes over 1.9 s early by true time: \(after)")
        #expect(!a.mayWrite, "a's fence closed at 10 s, before b's takeover at \(after) s")
    }

    @Test func settingsWithoutRoomForSkewAlwaysUseObservedTime() {
        var tight = LeaderElectionSettings()
        tight.leaseDuration = .seconds(12)  // 12 − 10 = 2 s < the 3.9 s window: a skewed takeover could beat the fence
        let (after, _, _) = takeover(skew: 0, settings: tight)
        #expect(after >= 13.9 && after < 14, "12 s from b's sighting at 1.9 s: \(after)")
    }
}

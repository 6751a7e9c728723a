import AIOSSystemd
import Glibc
import Testing

/// aiosd's own start-up hardening, applied to this test process (it only loses its ability to dump core).
@Suite struct ProcessHardeningTests {
    @Test func noCoreFileAndNotDumpable() {
        #expect(ProcessHardening.disableCoreDumps())
        #expect(!ProcessHardening.isDumpable)
        #expect(ProcessHardening.coreLimit == 0)
    }
}

/// aiosd drops the code pages only its start needed; this test process does it to itself and keeps running.
@Suite struct StartupPagesTests {
    static func residentFileKiB() -> Int {
        var status = [CChar](repeating: 0, count: 1 << 16)
        let file = fopen("/proc/self/status", "r")
        defer { fclose(file) }
        var total = 0
        while fgets(&status, Int32(status.count), file) != nil {
            let line = String(cString: status)
            if line.hasPrefix("RssFile:") { total = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0 }
        }
        return total
    }

    @Test func theExecutablesCodePagesLeaveTheResidentSetAndCodeStillRuns() {
        let before = Self.residentFileKiB()
        let released = StartupPages.release()
        let after = Self.residentFileKiB()
        #expect(released > 0, "no r-xp mapping of the executable found")
        #expect(after < before, "RssFile \(before) KiB -> \(after) KiB")
        // Code runs on from the page cache: the pages fault back in.
        #expect(ProcessHardening.coreLimit >= 0)
        #expect([3, 1, 2].sorted() == [1, 2, 3])
    }
}

import AIOSSystemd
import Testing

/// aiosd's own start-up hardening, applied to this test process (it only loses its ability to dump core).
@Suite struct ProcessHardeningTests {
    @Test func noCoreFileAndNotDumpable() {
        #expect(ProcessHardening.disableCoreDumps())
        #expect(!ProcessHardening.isDumpable)
        #expect(ProcessHardening.coreLimit == 0)
    }
}

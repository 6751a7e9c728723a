import AIOSTestSupport
import Foundation
import Testing

/// aiosd and aiosctl link FoundationEssentials only: not Foundation, FoundationInternationalization or ICU, whose
/// code and data made most of aiosd's idle memory (issue 14). The debug build links the Swift libraries
/// dynamically, so the binaries' NEEDED entries show what any module imported.
@Suite struct FoundationFreeBinaryTests {
    @Test(arguments: [BuiltProducts.aiosd, BuiltProducts.aiosctl])
    func linksFoundationEssentialsOnly(binary: String) throws {
        let result = try runProcess("/usr/bin/readelf", ["--dynamic", binary])
        #expect(result.status == 0, "\(result.stderr)")
        let needed = result.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        #expect(!needed.isEmpty, "readelf shows no NEEDED entries for \(binary)")
        for library in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so", "libFoundationNetworking.so"] {
            #expect(!needed.contains { $0.contains("[\(library)]") }, "\(binary) links \(library)")
        }
    }
}

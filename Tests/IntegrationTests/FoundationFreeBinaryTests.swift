import AIOSTestSupport
import Foundation
import Testing

/// aiosd and aiosctl use FoundationEssentials only: not Foundation, FoundationInternationalization or ICU, whose
/// code and data made most of aiosd's idle memory (issue 14).
@Suite struct FoundationFreeBinaryTests {
    /// Swift symbols of these modules start with `$s<length><name>`; FoundationEssentials' (`$s20Foundation...`)
    /// do not match.
    static let foreignModules = ["$s10Foundation", "$s30FoundationInternationalization", "$s20FoundationNetworking", "$s13FoundationXML"]

    /// The debug build links the Swift libraries dynamically, so every Foundation API the binary calls is an
    /// undefined dynamic symbol.
    @Test(arguments: [BuiltProducts.aiosd, BuiltProducts.aiosctl])
    func callsNoFoundationAPI(binary: String) throws {
        let result = try runProcess("/usr/bin/nm", ["--dynamic", "--undefined-only", binary])
        #expect(result.status == 0, "\(result.stderr)")
        let symbols = result.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
        #expect(symbols.contains { $0.hasPrefix("$s20FoundationEssentials") }, "nm shows no FoundationEssentials symbol in \(binary)")
        let foreign = symbols.filter { symbol in Self.foreignModules.contains { symbol.hasPrefix($0) } }
        #expect(foreign.isEmpty, "\(binary) calls \(foreign.prefix(5))")
    }

    /// An `import Foundation` alone links all of Foundation and ICU into the static release binaries, even when
    /// every API used is in FoundationEssentials; the sources of both executables must not have one.
    @Test func noModuleImportsFoundation() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let pattern = #/^\s*(@\w+\s+|(public|package|internal|fileprivate|private)\s+)*import\s+((struct|class|enum|protocol|typealias|func|var|let)\s+)?(Foundation|FoundationInternationalization|FoundationNetworking|FoundationXML)(\.|\s|$)/#
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100, "found only \(files.count) Swift files under \(sources.path)")
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains(pattern) {
                offenders.append("Sources/\(file):\(number + 1)")
            }
        }
        #expect(offenders.isEmpty, "import Foundation in \(offenders)")
    }
}

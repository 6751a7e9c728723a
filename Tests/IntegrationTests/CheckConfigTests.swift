import AIOSTestSupport
import Glibc
import Testing

/// `aiosd --check-config [FILE]`: the real binary validates the file and its drop-ins and exits; nothing starts.
@Suite(.offCooperativePool) struct CheckConfigTests {
    func checkConfig(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(BuiltProducts.aiosd, ["--check-config"] + arguments, environment: cleanEnvironment())
    }

    /// `aiosd.yaml` (logLevel: info) and one drop-in with `text`; returns both paths.
    func files(in directory: TemporaryDirectory, dropIn name: String, _ text: String) throws -> (main: String, dropIn: String) {
        let main = try directory.write("aiosd.yaml", "logLevel: info\n")
        mkdir(directory.file("aiosd.yaml.d"), 0o755)
        return (main, try directory.write("aiosd.yaml.d/\(name)", text))
    }

    @Test func validFileAndDropInsExitZeroAndNameWhatWasRead() throws {
        let directory = try TemporaryDirectory(prefix: "aiosd-cc")
        defer { directory.remove() }
        let (main, dropIn) = try files(in: directory, dropIn: "50-debug.yaml", "logLevel: debug\n")
        let result = try checkConfig([main])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration valid"))
        #expect(result.stdout.contains(main) && result.stdout.contains(dropIn))
    }

    @Test func invalidDropInExits78NamingFileLineAndKey() throws {
        let directory = try TemporaryDirectory(prefix: "aiosd-cc")
        defer { directory.remove() }
        let (main, bad) = try files(in: directory, dropIn: "60-bad.yaml", "control:\n  maxConnections: many\n")
        let result = try checkConfig([main])
        #expect(result.status == 78)
        #expect(result.stderr.contains("\(bad):2:") && result.stderr.contains("control.maxConnections"), "\(result.stderr)")
        // --config names the file when FILE is not given.
        let viaOption = try runProcess(BuiltProducts.aiosd, ["--config", main, "--check-config"], environment: cleanEnvironment())
        #expect(viaOption.status == 78)
    }

    @Test func aFileArgumentWithoutCheckConfigIsAUsageError() throws {
        let result = try runProcess(BuiltProducts.aiosd, ["/etc/aios/aiosd.yaml"], environment: cleanEnvironment())
        #expect(result.status == 64)
        #expect(result.stderr.contains("--check-config"))
    }
}

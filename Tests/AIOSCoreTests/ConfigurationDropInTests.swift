import AIOSCore
import AIOSTestSupport
import Glibc
import Testing

/// `aiosd.yaml.d/*.yaml`: merged over the main file in byte order of their names, key by key.
@Suite struct ConfigurationDropInTests {
    let loader = ConfigurationLoader()

    @Test func dropInsApplyInOrderKeyByKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("aiosd.yaml", "logLevel: info\ncontrol:\n  maxConnections: 8\n  adminGroup: wheel\n")
        mkdir(directory.file("aiosd.yaml.d"), 0o755)
        try directory.write("aiosd.yaml.d/20-late.yaml", "logLevel: warning\n")
        try directory.write("aiosd.yaml.d/10-early.yaml", "logLevel: debug\ncontrol:\n  maxConnections: 16\n")
        // Not a drop-in: other suffixes, hidden files (editor backups), directories.
        try directory.write("aiosd.yaml.d/30-ignored.yml", "logLevel: critical\n")
        try directory.write("aiosd.yaml.d/.40-hidden.yaml", "logLevel: critical\n")
        try directory.write("aiosd.yaml.d/50-backup.yaml~", "logLevel: critical\n")
        mkdir(directory.file("aiosd.yaml.d/60-dir.yaml"), 0o755)

        let configuration = try loader.load(path: main)
        #expect(configuration.logLevel == .warning)  // 20-late wins over 10-early and the main file
        #expect(configuration.control.maxConnections == 16)  // from 10-early
        #expect(configuration.control.adminGroup == "wheel")  // from the main file, untouched by the drop-ins
        #expect(try ConfigurationLoader.files(path: main).map(\.path)
                == [main, directory.file("aiosd.yaml.d/10-early.yaml"), directory.file("aiosd.yaml.d/20-late.yaml")])
    }

    @Test func dropInsWithoutTheMainFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        mkdir(directory.file("aiosd.yaml.d"), 0o755)
        try directory.write("aiosd.yaml.d/50-debug.yaml", "logLevel: debug\n")
        let configuration = try loader.load(path: directory.file("aiosd.yaml"))
        var expected = AgentConfiguration()
        expected.logLevel = .debug
        #expect(configuration == expected)
    }

    @Test func anInvalidDropInNamesItsFileAndLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("aiosd.yaml", "logLevel: info\n")
        mkdir(directory.file("aiosd.yaml.d"), 0o755)
        let bad = try directory.write("aiosd.yaml.d/60-bad.yaml", "control:\n  maxConnections: many\n")
        #expect {
            try loader.load(path: main)
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.file == bad && error?.line == 2 && error?.key == "control.maxConnections"
        }
    }

    @Test func anUnknownKeyInADropInIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = directory.file("aiosd.yaml")
        mkdir(directory.file("aiosd.yaml.d"), 0o755)
        try directory.write("aiosd.yaml.d/10-typo.yaml", "logLevle: debug\n")
        #expect(throws: ConfigurationError.self) { try loader.load(path: main) }
    }
}

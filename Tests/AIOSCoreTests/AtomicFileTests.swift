@testable import AIOSCore
import AIOSTestSupport
import Foundation
import Glibc
import Testing

@Suite struct AtomicFileTests {
    @Test func aFileWrittenInPartsHoldsThemInOrderWithItsMode() throws {
        let directory = try TemporaryDirectory(prefix: "atomic")
        defer { directory.remove() }
        let path = directory.file("state.json")
        try AtomicFile.write(to: path, mode: 0o600) { output throws(AtomicFile.Error) in
            for part in ["[", "1,", "", "2", "]"] { try output(Array(part.utf8)) }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "[1,2]")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func aFailureWhileWritingLeavesTheOldFileAndNoTemporaryOne() throws {
        let directory = try TemporaryDirectory(prefix: "atomic")
        defer { directory.remove() }
        let path = directory.file("state.json")
        try AtomicFile.write("old", to: path)
        #expect(throws: AtomicFile.Error.self) {
            try AtomicFile.write(to: path) { output throws(AtomicFile.Error) in
                try output(Array("new, half".utf8))
                throw AtomicFile.Error(description: "the producer failed")
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.json"])
    }
}

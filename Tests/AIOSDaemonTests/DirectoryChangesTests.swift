@testable import AIOSDaemon
import AIOSTestSupport
import Glibc
import Testing

/// What makes `DirectoryChanges` answer "changed", and what must not.
@Suite struct DirectoryChangesTests {
    /// A file written and closed before the first look is not a change after it, even when a child process that
    /// any thread spawned meanwhile held a copy of the descriptor: the kernel reports the close only when the last
    /// copy goes (here when the child exits, after the first look). Parallel tests spawn children all the time;
    /// this made the publisher load unchanged files again one run in about ten.
    @Test func aLateCloseOfAFileWrittenBeforeTheFirstLookIsNoChange() throws {
        let directory = try TemporaryDirectory(prefix: "changes")
        defer { directory.remove() }
        let changes = DirectoryChanges()

        // Opened without O_CLOEXEC, so the spawned child inherits it and keeps the file open until it exits.
        let descriptor = open(directory.file("db.yaml"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(descriptor >= 0)
        let logs = try TemporaryDirectory(prefix: "changes-log")  // not in the watched directory
        defer { logs.remove() }
        let child = try ChildProcess(["/bin/sleep", "0.3"], environment: [:], stderrPath: logs.file("sleep.log"))
        #expect(write(descriptor, "keyvaultName: kv\n", 17) == 17)
        close(descriptor)

        #expect(changes.changed(directory.path), "the first look cannot know")
        #expect(child.wait(timeout: .seconds(30)) == 0)
        #expect(!changes.changed(directory.path), "written before the first look; only its last close came after")

        // The same file written again: a change.
        let again = open(directory.file("db.yaml"), O_WRONLY | O_APPEND | O_CLOEXEC)
        try #require(again >= 0)
        #expect(write(again, "# x\n", 4) == 4)
        close(again)
        #expect(changes.changed(directory.path))
        #expect(!changes.changed(directory.path))
    }

    @Test func everyKindOfEntryChangeIsSeen() throws {
        let directory = try TemporaryDirectory(prefix: "changes")
        defer { directory.remove() }
        let changes = DirectoryChanges()
        #expect(changes.changed(directory.path))
        #expect(!changes.changed(directory.path), "nothing happened")

        let path = try directory.write("a.yaml", "x: 1\n")
        #expect(changes.changed(directory.path), "created")
        #expect(truncate(path, 0) == 0)
        #expect(changes.changed(directory.path), "truncated")
        #expect(chmod(path, 0o600) == 0)
        #expect(changes.changed(directory.path), "mode")
        #expect(rename(path, directory.file("b.yaml")) == 0)
        #expect(changes.changed(directory.path), "renamed")
        #expect(unlink(directory.file("b.yaml")) == 0)
        #expect(changes.changed(directory.path), "removed")
        #expect(!changes.changed(directory.path))
    }
}

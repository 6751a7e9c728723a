import Glibc

/// Gives back the pages of aiosd's own code that only starting needed. Starting (argument parsing, configuration,
/// the runtime's first type lookups, the dynamic linker's relocations) touches code all over the static binary,
/// and the kernel maps 64 KiB around each touch: ~17 MiB of the ~33 MiB RSS right after READY=1, of which an
/// idle daemon uses a few hundred KiB again. Dropping the mapping's pages (MADV_DONTNEED on the never-written
/// `r-xp` mapping of the executable) leaves them in the page cache; code that runs later faults its pages back
/// in from there, without I/O. Writable and relocated mappings are never touched (their pages would be lost).
public enum StartupPages {
    /// Releases the executable's code pages from this process; returns how many bytes of mappings were advised.
    @discardableResult
    public static func release() -> Int {
        guard let executable = executablePath(), let maps = fopen("/proc/self/maps", "re") else { return 0 }
        defer { fclose(maps) }
        var released = 0
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            // "start-end perms offset dev inode path"
            let text = String(cString: line)
            let fields = (text.hasSuffix("\n") ? text.dropLast() : Substring(text)).split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1] == "r-xp", fields[5].drop(while: { $0 == " " }) == executable,
                  let dash = fields[0].firstIndex(of: "-"),
                  let start = UInt(fields[0][..<dash], radix: 16), let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16),
                  end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if madvise(address, Int(end - start), MADV_DONTNEED) == 0 { released += Int(end - start) }
        }
        return released
    }

    private static func executablePath() -> Substring? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return Substring(String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

internal import CSystemd
import Glibc

/// Reads what a unit logged, for job reports ("K3s' own words on why it failed").
public enum JournalReader {
    /// The last `count` messages of `unit`, oldest first; empty if the journal cannot be read.
    public static func tail(unit: String, count: Int) -> [String] {
        var lines: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let found = aios_sd_journal_unit_tail(unit, Int32(count), &lines)
        guard let lines else { return [] }
        defer { free(lines) }
        var result: [String] = []
        for index in 0..<max(0, Int(found)) {
            if let line = lines[index] {
                result.append(String(cString: line))
                free(line)
            }
        }
        return result
    }
}

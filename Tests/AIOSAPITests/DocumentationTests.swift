import Foundation
import Testing

/// The documentation's links resolve inside the repository: every relative link of every Markdown file names a file
/// or directory that exists, and every `#anchor` a heading of its target (GitHub's heading ids).
@Suite struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func markdownFiles() -> [URL] {
        let skipped: Set<String> = [".build", ".git", ".build-fuzz", ".swiftpm"]
        var files: [URL] = []
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in walker {
            if skipped.contains(url.lastPathComponent) || url.lastPathComponent.hasPrefix(".build") {
                walker.skipDescendants()
            } else if url.pathExtension == "md" {
                files.append(url)
            }
        }
        return files
    }

    /// GitHub's id of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().unicodeScalars.compactMap { scalar -> Character? in
            if scalar == " " { return "-" }
            if CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" { return Character(scalar) }
            return nil
        })
    }

    static func anchors(of file: URL) throws -> Set<String> {
        var seen: [String: Int] = [:]
        var result: Set<String> = []
        var fenced = false
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { fenced.toggle() }
            guard !fenced, line.hasPrefix("#") else { continue }
            let base = anchor(line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces))
            let count = seen[base, default: 0]
            seen[base] = count + 1
            result.insert(count == 0 ? base : "\(base)-\(count)")
        }
        return result
    }

    /// `[text](target)` outside code fences and code spans.
    static func links(in text: String) -> [String] {
        var links: [String] = []
        var fenced = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { fenced.toggle() }
            if fenced { continue }
            let unquoted = line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 0 }
                .map(\.element).joined(separator: " ")
            var rest = Substring(unquoted)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                links.append(String(after[..<close]))
                rest = after[close...]
            }
        }
        return links
    }

    @Test func relativeLinksResolve() throws {
        let files = Self.markdownFiles()
        #expect(files.contains { $0.lastPathComponent == "README.md" && $0.deletingLastPathComponent().standardizedFileURL == Self.root })
        var checked = 0
        for file in files {
            for link in Self.links(in: try String(contentsOf: file, encoding: .utf8)) {
                if link.hasPrefix("http://") || link.hasPrefix("https://") || link.hasPrefix("mailto:") { continue }
                checked += 1
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let target = parts[0].isEmpty ? file : file.deletingLastPathComponent().appendingPathComponent(String(parts[0])).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: target.path), "\(file.path): link \(link) names no file")
                #expect(target.path.hasPrefix(Self.root.path), "\(file.path): link \(link) leaves the repository")
                if parts.count == 2, target.pathExtension == "md", FileManager.default.fileExists(atPath: target.path) {
                    #expect(try Self.anchors(of: target).contains(String(parts[1])), "\(file.path): link \(link) names no heading")
                }
            }
        }
        #expect(checked > 5, "the README links to its parts and the testbed's documentation")
    }

    @Test func anchorsAreGitHubs() {
        #expect(Self.anchor("The control API") == "the-control-api")
        #expect(Self.anchor("`aiosctl`") == "aiosctl")
        #expect(Self.anchor("Configuration: `/etc/aios/aiosd.yaml`") == "configuration-etcaiosaiosdyaml")
    }
}

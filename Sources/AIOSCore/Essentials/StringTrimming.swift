/// `trimmingCharacters(in: .whitespaces)` and `(in: .whitespacesAndNewlines)` without Foundation: the same sets,
/// compared scalar by scalar. CharacterSet.whitespacesAndNewlines is Unicode's White_Space property (Z*,
/// U+0009...U+000D, U+0085) plus U+200B; `.whitespaces` is that without the line breaks (Zs, tab and U+200B).
extension StringProtocol {
    public func trimmingWhitespace() -> String { trimmingScalars(where: \.isHorizontalWhitespace) }

    public func trimmingWhitespaceAndNewlines() -> String {
        trimmingScalars(where: { $0.properties.isWhitespace || $0.value == 0x200B })
    }

    private func trimmingScalars(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isTrimmed($0) })!
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[first...last])
        return String(result)
    }
}

extension Unicode.Scalar {
    /// CharacterSet.whitespaces: Unicode general category Zs, tab, and the zero-width space (Zs in older Unicode).
    var isHorizontalWhitespace: Bool { value == 0x09 || value == 0x200B || properties.generalCategory == .spaceSeparator }
}

extension StringProtocol {
    /// Every occurrence of `target`, left to right and not overlapping, replaced by `replacement`; compared as
    /// UTF-8 bytes. Unlike NSString's `replacingOccurrences`, a match followed by a combining mark is replaced
    /// too (a secret is redacted whatever follows it).
    public func replacingAll(_ target: String, with replacement: String) -> String {
        let text = Array(utf8), pattern = Array(target.utf8)
        guard !pattern.isEmpty, pattern.count <= text.count else { return String(self) }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == pattern[0], index + pattern.count <= text.count, text[index..<index + pattern.count].elementsEqual(pattern) {
                result.append(contentsOf: replacement.utf8)
                index += pattern.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

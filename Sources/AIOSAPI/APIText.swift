/// What text the control API accepts in any input (path parameters and every string of a JSON body): no control
/// characters (C0, DEL, C1: a NUL would cut a file name short in the kernel, a newline forge a log or config line)
/// and no Unicode line or paragraph separators (U+2028, U+2029), which other parsers take for line breaks.
public enum APIText {
    /// The first character not accepted in `text`, as `U+XXXX`, or nil.
    public static func forbiddenCharacter(in text: String) -> String? {
        for scalar in text.unicodeScalars where isForbidden(scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return nil
    }

    public static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}

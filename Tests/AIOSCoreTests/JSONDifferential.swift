@testable import AIOSCore
import Foundation
import Testing

/// What the hand-written JSON readers' tests share: documents broken at random, and the comparison with what
/// JSONDecoder reads from the same bytes.
enum JSONDifferential {
    /// `text` with one to three bytes deleted, inserted or replaced at random.
    static func broken(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...3) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count)
            switch Int.random(in: 0..<3) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(alphabet.randomElement()!, at: at)
            default: bytes[at] = alphabet.randomElement()!
            }
        }
        return bytes
    }

    static let alphabet = Array("{}[],:\"\\ \n0123456789eE.-+atfnul/xé".utf8) + [0x00, 0x1F, 0xFF, 0xC3]

    /// The reader's result is JSONDecoder's; it may refuse what JSONDecoder reads only where the document is not
    /// strict JSON (JSONDecoder checks only the strings a field reads).
    static func expectSame<Result: Equatable>(_ read: Result?, as decoded: Result?, from bytes: [UInt8],
                                              sourceLocation: SourceLocation = #_sourceLocation) {
        if read == nil, decoded != nil {
            #expect(notStrictJSON(bytes), "\(String(decoding: bytes, as: UTF8.self).debugDescription)", sourceLocation: sourceLocation)
        } else {
            #expect(read == decoded, "\(String(decoding: bytes, as: UTF8.self).debugDescription)", sourceLocation: sourceLocation)
        }
    }

    /// A bad string where no field reads (JSONDecoder into a tree of every value refuses it), or in a key's
    /// repeated value (JSONSerialization, which parses every member before it keeps one, refuses it).
    static func notStrictJSON(_ bytes: [UInt8]) -> Bool {
        JSONValue(parsing: bytes) == nil || (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) == nil
    }

    /// How many of `count` generated documents `decoded` accepted, each also read by `read` with the same result.
    static func acceptedWell<Result: Equatable>(_ count: Int, _ make: () -> String, decoded: ([UInt8]) -> Result?, read: ([UInt8]) -> Result?,
                                                sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        var accepted = 0
        for _ in 0..<count {
            let bytes = Array(make().utf8)
            let expected = decoded(bytes)
            if expected != nil { accepted += 1 }
            expectSame(read(bytes), as: expected, from: bytes, sourceLocation: sourceLocation)
        }
        return accepted
    }

    /// How many of `count` generated documents, each `broken`, `decoded` refused, each also read by `read` with the
    /// same result.
    static func refusedBroken<Result: Equatable>(_ count: Int, _ make: () -> String, decoded: ([UInt8]) -> Result?, read: ([UInt8]) -> Result?,
                                                 sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        var refused = 0
        for _ in 0..<count {
            let bytes = broken(make())
            let expected = decoded(bytes)
            if expected == nil { refused += 1 }
            expectSame(read(bytes), as: expected, from: bytes, sourceLocation: sourceLocation)
        }
        return refused
    }
}

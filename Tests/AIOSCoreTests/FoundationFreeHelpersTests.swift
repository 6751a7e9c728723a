@testable import AIOSCore
import Foundation
import Testing

/// aiosd links FoundationEssentials only; these helpers stand in for the Foundation APIs it used. Each is checked
/// against the Foundation API it replaces (this test target still links Foundation), so the daemon's behaviour is
/// unchanged.
@Suite struct FoundationFreeHelpersTests {
    // MARK: JSONValue (was JSONSerialization)

    @Test func jsonValueReadsWhatJSONSerializationRead() throws {
        let text = #"{"metadata":{"name":"a","generation":3,"labels":{"x":"1"},"mixed":{"x":"1","n":2}},"f":1.5,"t":true,"n":null,"list":[{"a":1},2]}"#
        let value = try #require(JSONValue(parsing: Data(text.utf8)))
        let foundation = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(value["metadata"]?["name"]?.string == (foundation["metadata"] as? [String: Any])?["name"] as? String)
        #expect(value["metadata"]?["generation"]?.int == 3)
        #expect(value["f"]?.double == 1.5 && value["f"]?.int == nil && value["f"]?.truncatedInt == 1)
        #expect(value["t"]?.bool == true && value["t"]?.int == nil)
        #expect(value["n"]?.isNull == true)
        // As `as? [String: String]`: all or nothing.
        #expect(value["metadata"]?["labels"]?.stringObject == ["x": "1"])
        #expect(value["metadata"]?["mixed"]?.stringObject == nil)
        #expect((foundation["metadata"] as? [String: Any])?["mixed"] as? [String: String] == nil)
        #expect(value["list"]?.objectArray == nil && value["list"]?.array?.count == 2)
        // Not JSON, or not an object where one is needed.
        #expect(JSONValue(parsing: Data("{".utf8)) == nil)
        #expect(JSONValue(parsing: Data("\"text\"".utf8)) == .string("text"))
        #expect(JSONValue.object(parsing: Data("[1]".utf8)) == nil)
    }

    @Test func integersStayIntegersAndEqualityIgnoresKeyOrderAndNumberForm() throws {
        let value: JSONValue = ["observedGeneration": 3, "b": ["x", nil, true], "a": .double(0.5)]
        let text = String(decoding: try value.encoded(sortedKeys: true), as: UTF8.self)
        #expect(text == #"{"a":0.5,"b":["x",null,true],"observedGeneration":3}"#)
        #expect(JSONValue(parsing: Data(text.utf8)) == value)
        let reordered = try #require(JSONValue(parsing: Data(#"{"observedGeneration":3.0,"a":0.5,"b":["x",null,true]}"#.utf8)))
        #expect(reordered.sameValue(as: value))
        #expect(!JSONValue.object(["observedGeneration": 4]).sameValue(as: ["observedGeneration": 3]))
    }

    // MARK: Trimming (was trimmingCharacters(in:))

    @Test func trimmingMatchesCharacterSetsForEveryScalarOfTheBMP() {
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(scalar) + "x" + String(scalar)
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces), "U+\(String(value, radix: 16))")
            #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(String(value, radix: 16))")
        }
        for text in ["", " ", " \t a b \t ", "\r\n value \r\n", "\u{FEFF}x\u{FEFF}", "e\u{301} ", " \u{301}x"] {
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
            #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    @Test func replacingAllIsLiteralAsReplacingOccurrences() {
        // One difference, on purpose: NSString does not match before a combining mark; a secret is redacted anyway.
        #expect("secret\u{301} and secret".replacingAll("secret", with: "[redacted]") == "[redacted]\u{301} and [redacted]")
        let cases: [(String, String, String)] = [("a-b-c", "-", "+"), ("aaaa", "aa", "b"),
                                                 ("hmac-sha256:abc", "hmac-sha256:", ""), ("", "x", "y"), ("short", "longer text", "z")]
        for (text, target, replacement) in cases {
            #expect(text.replacingAll(target, with: replacement) == text.replacingOccurrences(of: target, with: replacement), "\(text)")
        }
    }

    // MARK: Percent-encoding (was addingPercentEncoding / removingPercentEncoding)

    @Test func percentEncodingMatchesFoundation() {
        let ascii = String(String.UnicodeScalarView((UInt8(0)...0x7F).map { Unicode.Scalar($0) }))
        for text in [ascii, "app=aios,role in (a,b)", "ü€😀 x/y?z", "node-role.kubernetes.io/control-plane", ""] {
            for escaped in ["&=+?/", "&=+"] {
                let foundation = text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: escaped)))
                #expect(PercentEncoding.queryValue(text, alsoEscaping: escaped) == foundation, "\(text) \(escaped)")
            }
        }
        for text in ["a%20b", "%e2%82%AC", "%", "%4", "%zz", "100%", "%C3%28", "plain", "%2F%2f", ""] {
            #expect(PercentEncoding.decode(text) == text.removingPercentEncoding, "\(text)")
        }
    }

    // MARK: Dates (were ISO8601DateFormatter and DateFormatter)

    @Test func internetTimeMatchesISO8601DateFormatter() {
        let foundation = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        let dates = [0, -1, 951_782_400, 4_102_444_799, 1_800_000_000.75, 1_800_000_000.9996, -2_208_988_800.5, -2_208_988_800.0004]
            .map(Date.init(timeIntervalSince1970:))
            + (0..<5_000).map { _ in Date(timeIntervalSince1970: Double.random(in: -2e9...4e9, using: &generator)) }
        for date in dates {
            let text = InternetTime.format(date)
            #expect(text == foundation.string(from: date), "\(date.timeIntervalSince1970)")
            #expect(InternetTime.parse(text) == foundation.date(from: text), "\(text)")
        }
        #expect(InternetTime.parse("2027-01-15T09:00:00+01:00") == foundation.date(from: "2027-01-15T09:00:00+01:00"))
        #expect(InternetTime.parse("2027-01-15T07:30:00-00:30") == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(InternetTime.parse("2027-01-15T08:00:00.123456Z") == Date(timeIntervalSince1970: 1_800_000_000.123456))
        for bad in ["yesterday", "2027-01-15 08:00:00Z", ""] {
            #expect(InternetTime.parse(bad) == nil, "\(bad)")
            #expect(foundation.date(from: bad) == nil, "\(bad)")
        }
        // Stricter than ISO8601DateFormatter, which rolls Feb 30 and 24:00 over, reads a time without a zone as UTC
        // and ignores what follows a date it could read: the API server writes none of these.
        for bad in ["2027-02-30T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:00", "2027-01-15T08:00:00.Z",
                    "2027-01-15T08:00:00Zjunk"] {
            #expect(InternetTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func httpDatesMatchDateFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let date = Date(timeIntervalSince1970: Double(Int.random(in: 0...4_000_000_000, using: &generator)))
            let text = formatter.string(from: date)
            #expect(InternetTime.parseHTTPDate(text) == date, "\(text)")
        }
        #expect(InternetTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == Date(timeIntervalSince1970: 784_111_777))
        for bad in ["Sun, 06 Nov 1994 08:49:37", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "120", ""] {
            #expect(InternetTime.parseHTTPDate(bad) == nil, "\(bad)")
        }
    }

    // MARK: Blocking (were NSCondition and Thread.sleep)

    @Test func conditionWaitsUntilSignalledOrTheDeadline() async {
        let condition = ThreadCondition()
        let start = ContinuousClock.now
        condition.lock()
        let signalled = condition.wait(until: Date().addingTimeInterval(0.2))
        condition.unlock()
        #expect(!signalled)
        #expect(ContinuousClock.now - start >= .milliseconds(190))

        nonisolated(unsafe) var ready = false
        let waiter = Thread {
            ThreadSleep.sleep(seconds: 0.05)
            condition.withLock { ready = true }
            condition.broadcast()
        }
        waiter.start()
        condition.lock()
        var woke = true
        while !ready, woke { woke = condition.wait(until: Date().addingTimeInterval(10)) }
        condition.unlock()
        #expect(ready && woke)
    }
}

import AIOSHTTP
import FoundationEssentials
import Glibc

/// Retries for 429, 5xx and transport errors, waiting what the server asks (`retry-after-ms`, `x-ms-retry-after-ms`,
/// `Retry-After` in seconds or as an HTTP date) or else: after a 429, Microsoft's Key Vault backoff of 1, 2, 4, 8,
/// 16 s (learn.microsoft.com/azure/key-vault/general/overview-throttling; its 429s carry no Retry-After), so a
/// request outlasts a full 10 s window of someone else's traffic; after a 5xx or transport error, at most
/// `maximumAttempts` attempts with an exponential backoff with full jitter (base 0.5 s, factor 2, cap 30 s).
public struct KeyVaultRetryPolicy: Sendable {
    public var maximumAttempts: Int
    /// The waits after the 1st, 2nd... 429 of one request; one more 429 than there are waits fails it.
    public var throttledDelays: [Duration]
    public var baseDelay: Duration
    public var maximumDelay: Duration
    /// Sleeps between attempts; tests pass one that records instead.
    public var sleep: @Sendable (Duration) -> Void
    /// A number in [0, 1) for the jitter.
    public var random: @Sendable () -> Double

    public static let microsoftThrottledDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)]

    public init(maximumAttempts: Int = 4, throttledDelays: [Duration] = microsoftThrottledDelays, baseDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(30),
                sleep: @escaping @Sendable (Duration) -> Void = { ThreadSleep.sleep(seconds: Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.maximumAttempts = maximumAttempts
        self.throttledDelays = throttledDelays
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.sleep = sleep
        self.random = random
    }

    /// Whether a request that failed `failedAttempts` times, the last time with `status` (nil: no answer), gets another.
    func retries(afterFailedAttempts failedAttempts: Int, status: Int?) -> Bool {
        status == 429 ? failedAttempts <= throttledDelays.count : failedAttempts < maximumAttempts
    }

    /// The wait before attempt `failedAttempts + 1`, given the response that failed (nil after a transport error).
    func delay(afterFailedAttempts failedAttempts: Int, response: HTTPResponse?, now: Date = Date()) -> Duration {
        if let response, let asked = Self.serverDelay(response, now: now) {
            // Honour the server, but a hostile or broken header must not park a sync for hours.
            return min(asked, .seconds(60))
        }
        if response?.status == 429, !throttledDelays.isEmpty {
            return throttledDelays[min(max(failedAttempts, 1), throttledDelays.count) - 1]
        }
        let exponential = baseDelay.seconds * pow(2, Double(max(0, failedAttempts - 1)))
        return .seconds(min(maximumDelay.seconds, exponential) * random())
    }

    /// The delay the server asks for, if any.
    static func serverDelay(_ response: HTTPResponse, now: Date) -> Duration? {
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let text = response.header(name), let milliseconds = Double(text.trimmingWhitespace()),
               milliseconds >= 0, milliseconds.isFinite {
                return .milliseconds(Int64(milliseconds))
            }
        }
        guard let text = response.header("Retry-After")?.trimmingWhitespace() else { return nil }
        if let seconds = Int(text) { return seconds >= 0 ? .seconds(seconds) : nil }
        guard let date = InternetTime.parseHTTPDate(text) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
    }

}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

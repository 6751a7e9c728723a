import FoundationEssentials

/// The one way aiosd and aiosctl write a duration for people: the two largest units (`59m12s`, `3h4m`, `29d23h`);
/// under a minute, seconds with a tenth below ten (`2.2s`, `45s`); under a second, milliseconds (`350ms`).
/// Truncated, never rounded up: a countdown never shows more time than is left.
public enum DurationText {
    public static func format(seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        if seconds < 0 { return "-" + format(seconds: -seconds) }
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        if seconds < 10 {
            let tenths = Int(seconds * 10)
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let total = Int(seconds)
        let (days, hours, minutes, secs) = (total / 86400, total % 86400 / 3600, total % 3600 / 60, total % 60)
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m\(secs)s" }
        return "\(secs)s"
    }

    /// `in 59m12s` for a time ahead of `now`, `3m4s ago` for one behind it.
    public static func relative(_ date: Date, now: Date = Date()) -> String {
        let seconds = date.timeIntervalSince(now)
        return seconds >= 0 ? "in \(format(seconds: seconds))" : "\(format(seconds: -seconds)) ago"
    }
}

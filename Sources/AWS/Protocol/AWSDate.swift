import Foundation

/// AWS's timestamp formats.
public enum AWSDate {
    /// Parses ISO 8601 with or without fractional seconds ("2026-01-02T03:04:05Z",
    /// "2026-01-02T03:04:05.123Z", "2026-01-02T03:04:05+00:00", and the SSO cache's
    /// "2026-01-02T03:04:05UTC").
    public static func parse(_ text: String) -> Date? {
        var s = text.trimmingCharacters(in: .whitespaces)
        if s.hasSuffix("UTC") { s = String(s.dropLast(3)) + "Z" }
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: s) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: s)
    }

    /// ISO 8601 in UTC, to the second.
    public static func format(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

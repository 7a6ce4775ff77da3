/// Mutates JSON documents: byte flips and interesting bytes, truncations, and token-level
/// edits that keep much of the document well formed (numbers swapped for huge, negative or
/// fractional ones, strings for escapes and non-ASCII, values for other kinds, nesting, a key
/// repeated), so that both readers get deep into a document before it goes wrong.
public enum JSONMutator {
    /// `input` with one to three mutations.
    public static func mutate(_ input: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + rng.below(3)) { mutateOnce(&bytes, using: &rng) }
        return bytes
    }

    static let values = ["0", "-0", "-1", "2", "1.0", "1e2", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                         "-9223372036854775809", "18446744073709551616", "1" + String(repeating: "0", count: 40), "00", "-", "true", "false",
                         "null", "\"\"", "\"x\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\u00e9\"", "\"é\"", "\"\\\"", "[]", "{}", "[null]",
                         "{\"a\":1}", "\"sha256:\(String(repeating: "a", count: 64))\"", "\"sha512:ab\"", "\"sha256:\(String(repeating: "A", count: 64))\""]

    static func mutateOnce(_ bytes: inout [UInt8], using rng: inout SeededGenerator) {
        switch rng.below(10) {
        case 0: // bit flip
            guard !bytes.isEmpty else { return }
            bytes[rng.below(bytes.count)] ^= 1 << UInt8(rng.below(8))
        case 1: // an interesting byte
            guard !bytes.isEmpty else { return }
            bytes[rng.below(bytes.count)] = rng.pick(Array("\0\u{7f}\"\\{}[],:-.e0 ".utf8) + [0x80, 0xc3, 0xff])
        case 2: // truncation
            guard !bytes.isEmpty else { return }
            bytes.removeSubrange(rng.below(bytes.count)...)
        case 3, 4, 5: // a scalar value (after a ':' or in an array) replaced
            let starts = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") || bytes[$0] == UInt8(ascii: "[") || bytes[$0] == UInt8(ascii: ",") }
            guard !starts.isEmpty else { return }
            let start = rng.pick(starts) + 1
            var end = start
            while end < bytes.count, !",}]".utf8.contains(bytes[end]) { end += 1 }
            guard end > start, !"{[".utf8.contains(bytes[start]) else { return }
            bytes.replaceSubrange(start..<end, with: Array(rng.pick(values).utf8))
        case 6: // a member repeated (a duplicate key)
            guard let open = bytes.indices.filter({ bytes[$0] == UInt8(ascii: "{") }).randomElement(using: &rng) else { return }
            var end = open + 1
            while end < bytes.count, !",}".utf8.contains(bytes[end]) { end += 1 }
            guard end > open + 1 else { return }
            bytes.insert(contentsOf: Array(bytes[(open + 1)..<end]) + [UInt8(ascii: ",")], at: open + 1)
        case 7: // nesting wrapped around a value
            guard !bytes.isEmpty else { return }
            let depth = rng.pick([1, 10, 63, 64, 65, 600])
            let at = rng.below(bytes.count)
            bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "["), count: depth), at: at)
            let close = min(bytes.count, at + depth + rng.below(max(1, bytes.count - at - depth)))
            bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "]"), count: depth), at: close)
        case 8: // a span removed or copied
            guard bytes.count > 2 else { return }
            let a = rng.below(bytes.count), b = rng.below(bytes.count)
            let range = min(a, b)..<max(a, b)
            if rng.chance(50) { bytes.removeSubrange(range) } else { bytes.insert(contentsOf: Array(bytes[range]), at: rng.below(bytes.count)) }
        default: // whitespace or a BOM
            bytes.insert(contentsOf: rng.pick([[0x20], [0x0a], [0x09], [0x0b], [0xef, 0xbb, 0xbf], [0x00]]), at: rng.below(bytes.count + 1))
        }
    }
}

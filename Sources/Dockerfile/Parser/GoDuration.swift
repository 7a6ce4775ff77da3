/// Go's `time.ParseDuration`: a signed sequence of decimal numbers, each with a unit (`ns`,
/// `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`), such as `300ms`, `1.5h` or `2h45m`; `0` alone is zero.
enum GoDuration {
    /// The duration in nanoseconds, or `nil` when `text` is not one (or overflows 64 bits).
    static func nanoseconds(_ text: String) -> Int64? {
        var scalars = Array(text.unicodeScalars)[...]
        var negative = false
        if let sign = scalars.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            scalars = scalars.dropFirst()
        }
        if scalars.count == 1, scalars.first == "0" { return 0 }
        guard !scalars.isEmpty else { return nil }
        var total: Double = 0
        var exact: Int64 = 0
        var exactOK = true
        while !scalars.isEmpty {
            let integerDigits = scalars.prefix { ("0"..."9").contains($0) }
            scalars = scalars.dropFirst(integerDigits.count)
            var fractionDigits: ArraySlice<Unicode.Scalar> = []
            if scalars.first == "." {
                scalars = scalars.dropFirst()
                fractionDigits = scalars.prefix { ("0"..."9").contains($0) }
                scalars = scalars.dropFirst(fractionDigits.count)
            }
            guard !integerDigits.isEmpty || !fractionDigits.isEmpty else { return nil }
            let unitScalars = scalars.prefix { $0 != "." && !("0"..."9").contains($0) }
            scalars = scalars.dropFirst(unitScalars.count)
            let unit = String(String.UnicodeScalarView(unitScalars))
            let scale: Int64
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1_000
            case "ms": scale = 1_000_000
            case "s": scale = 1_000_000_000
            case "m": scale = 60_000_000_000
            case "h": scale = 3_600_000_000_000
            default: return nil
            }
            let integerText = String(String.UnicodeScalarView(integerDigits))
            let fractionText = String(String.UnicodeScalarView(fractionDigits))
            guard let value = Double((integerText.isEmpty ? "0" : integerText) + "." + (fractionText.isEmpty ? "0" : fractionText)) else { return nil }
            total += value * Double(scale)
            if exactOK, fractionDigits.isEmpty, let whole = Int64(integerText) {
                let (product, overflow) = whole.multipliedReportingOverflow(by: scale)
                let (sum, overflowAgain) = exact.addingReportingOverflow(product)
                if overflow || overflowAgain { return nil }
                exact = sum
            } else {
                exactOK = false
            }
            guard total <= 9.223372036854775e18 else { return nil }
        }
        let result = exactOK ? exact : Int64(total.rounded(.down))
        return negative ? -result : result
    }
}

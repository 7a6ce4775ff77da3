/// The exec form's JSON array, read as Go's `json.Unmarshal` into `[]any` reads it: the whole
/// text must be one valid JSON value (white space around it allowed) and an array; then every
/// element must be a string.
enum JSONArray {
    enum Outcome: Equatable {
        /// Not valid JSON, or not an array: BuildKit then takes the shell form.
        case notJSON
        /// A valid array with something other than a string in it: an error in BuildKit.
        case notStrings
        /// The decoded strings.
        case strings([String])
    }

    static func read(_ text: String) -> Outcome {
        var reader = Reader(scalars: Array(text.unicodeScalars))
        reader.skipSpace()
        guard reader.peek() == "[" else { return .notJSON }
        guard let elements = reader.topLevelArray() else { return .notJSON }
        reader.skipSpace()
        guard reader.atEnd else { return .notJSON }
        var strings: [String] = []
        for element in elements {
            guard let string = element else { return .notStrings }
            strings.append(string)
        }
        return .strings(strings)
    }

    /// A validating reader that never recurses (nesting is tracked on a counter), so no input
    /// can exhaust the stack.
    private struct Reader {
        let scalars: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { index >= scalars.count }

        func peek() -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        mutating func skipSpace() {
            while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { index += 1 }
        }

        /// The top-level array's elements: a string, or `nil` for any other valid value.
        mutating func topLevelArray() -> [String?]? {
            index += 1
            var elements: [String?] = []
            skipSpace()
            if peek() == "]" {
                index += 1
                return elements
            }
            while true {
                skipSpace()
                if peek() == "\"" {
                    guard let string = readString() else { return nil }
                    elements.append(string)
                } else {
                    guard skipValue() else { return nil }
                    elements.append(nil)
                }
                skipSpace()
                switch peek() {
                case ",": index += 1
                case "]":
                    index += 1
                    return elements
                default: return nil
                }
            }
        }

        /// Skips one non-string value (which may nest), checking its syntax; Go limits nesting to 10,000.
        mutating func skipValue() -> Bool {
            // Each open container: true for an object (expects "key": value), false for an array.
            var stack: [Bool] = []
            var expectingValue = true
            while true {
                skipSpace()
                if expectingValue {
                    guard let scalar = peek() else { return false }
                    switch scalar {
                    case "{", "[":
                        guard stack.count < 10_000 else { return false }
                        index += 1
                        stack.append(scalar == "{")
                        skipSpace()
                        if peek() == (scalar == "{" ? "}" : "]") {
                            index += 1
                            stack.removeLast()
                            expectingValue = false
                        } else if scalar == "{" {
                            guard readKey() else { return false }
                        }
                        if !expectingValue, stack.isEmpty { return true }
                        continue
                    case "\"":
                        guard readString() != nil else { return false }
                    case "t": guard readWord("true") else { return false }
                    case "f": guard readWord("false") else { return false }
                    case "n": guard readWord("null") else { return false }
                    default: guard readNumber() else { return false }
                    }
                    expectingValue = false
                    if stack.isEmpty { return true }
                    continue
                }
                guard let isObject = stack.last, let scalar = peek() else { return false }
                if scalar == "," {
                    index += 1
                    if isObject {
                        skipSpace()
                        guard readKey() else { return false }
                    }
                    expectingValue = true
                } else if scalar == (isObject ? "}" : "]") {
                    index += 1
                    stack.removeLast()
                    if stack.isEmpty { return true }
                } else {
                    return false
                }
            }
        }

        /// `"key" :` inside an object.
        mutating func readKey() -> Bool {
            guard peek() == "\"", readString() != nil else { return false }
            skipSpace()
            guard peek() == ":" else { return false }
            index += 1
            return true
        }

        mutating func readWord(_ word: String) -> Bool {
            for scalar in word.unicodeScalars {
                guard peek() == scalar else { return false }
                index += 1
            }
            return true
        }

        mutating func readNumber() -> Bool {
            func digits() -> Int {
                let start = index
                while let scalar = peek(), ("0"..."9").contains(scalar) { index += 1 }
                return index - start
            }
            if peek() == "-" { index += 1 }
            if peek() == "0" {
                index += 1
            } else if digits() == 0 {
                return false
            }
            if peek() == "." {
                index += 1
                guard digits() > 0 else { return false }
            }
            if peek() == "e" || peek() == "E" {
                index += 1
                if peek() == "+" || peek() == "-" { index += 1 }
                guard digits() > 0 else { return false }
            }
            return true
        }

        /// A string at the cursor, decoded; lone surrogates become U+FFFD as in Go.
        mutating func readString() -> String? {
            index += 1
            var result = String.UnicodeScalarView()
            while let scalar = peek() {
                index += 1
                switch scalar {
                case "\"": return String(result)
                case "\\":
                    guard let escaped = peek() else { return nil }
                    index += 1
                    switch escaped {
                    case "\"", "\\", "/": result.append(escaped)
                    case "b": result.append("\u{08}")
                    case "f": result.append("\u{0C}")
                    case "n": result.append("\n")
                    case "r": result.append("\r")
                    case "t": result.append("\t")
                    case "u":
                        guard let unit = readHex() else { return nil }
                        if (0xD800..<0xDC00).contains(unit), peek() == "\\", index + 1 < scalars.count, scalars[index + 1] == "u" {
                            let saved = index
                            index += 2
                            if let low = readHex(), (0xDC00..<0xE000).contains(low),
                               let combined = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) {
                                result.append(combined)
                                continue
                            }
                            index = saved
                        }
                        result.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                    default: return nil
                    }
                default:
                    guard scalar.value >= 0x20 else { return nil }
                    result.append(scalar)
                }
            }
            return nil
        }

        mutating func readHex() -> UInt32? {
            guard index + 4 <= scalars.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard scalars[index].isASCII, let digit = UInt32(String(scalars[index]), radix: 16) else { return nil }
                value = value * 16 + digit
                index += 1
            }
            return value
        }
    }
}

import Support

/// Reads a `RUN --mount=` value as BuildKit's `parseMount` does: CSV fields of `key=value`
/// (or the bare words `ro`, `rw`, `readonly`, `readwrite`, `required`), keys in any case.
enum MountParser {
    static let keys = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid",
                       "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env"]

    /// The mount `spec` describes, each value passed through `expand` first (BuildKit expands
    /// them with the stage's variables when the RUN runs).
    static func parse(_ spec: String, at location: DockerfileLocation,
                      expand: (String) throws(DockerfileError) -> String) throws(DockerfileError) -> RunMount {
        func invalid(_ reason: String) -> DockerfileError { .invalidMount(spec: spec, reason: reason, at: location) }
        guard let fields = csvFields(spec) else { throw invalid("a quoted field is not closed properly; balance its quotes") }
        var mount = RunMount(spec: spec)
        var readOnly: Bool?
        var mode: UInt32?, uid: UInt32?, gid: UInt32?
        for field in fields {
            let key: String
            let rawValue: String
            if let equals = field.firstIndex(of: "=") {
                key = field[..<equals].lowercased()
                rawValue = String(field[field.index(after: equals)...])
            } else {
                key = field.lowercased()
                switch key {
                case "readonly", "ro": readOnly = true
                case "readwrite", "rw": readOnly = false
                case "required":
                    guard mount.type == .secret || mount.type == .ssh else {
                        throw invalid("'required' applies only to secret and ssh mounts (give type= first)")
                    }
                    mount.required = true
                default: throw invalid("'\(field)' must be a key=value pair")
                }
                continue
            }
            let value = try expand(rawValue)
            switch key {
            case "type":
                guard let type = RunMount.MountType(rawValue: value.lowercased()) else {
                    let names = RunMount.MountType.allCases.map(\.rawValue)
                    throw invalid("unknown mount type '\(value)'; " + (Suggestions.closest(to: value, in: names).map { "did you mean '\($0)'?" }
                        ?? "use " + Suggestions.list(names, conjunction: "or")))
                }
                mount.type = type
            case "from": mount.from = value
            case "source", "src": mount.source = value
            case "target", "dst", "destination": mount.target = value
            case "readonly", "ro":
                guard let flag = goBool(value) else { throw invalid("'\(key)=\(value)' is not true or false") }
                readOnly = flag
            case "readwrite", "rw":
                guard let flag = goBool(value) else { throw invalid("'\(key)=\(value)' is not true or false") }
                readOnly = !flag
            case "required":
                guard mount.type == .secret || mount.type == .ssh else {
                    throw invalid("'required' applies only to secret and ssh mounts (give type= first)")
                }
                guard let flag = goBool(value) else { throw invalid("'required=\(value)' is not true or false") }
                mount.required = flag
            case "size":
                guard mount.type == .tmpfs else { throw invalid("'size' applies only to tmpfs mounts (give type=tmpfs first)") }
                guard let bytes = ramBytes(value) else { throw invalid("'size=\(value)' is not a size such as 64m or 1g") }
                mount.sizeLimit = bytes
            case "id": mount.id = value
            case "sharing":
                guard let sharing = RunMount.Sharing(rawValue: value.lowercased()) else {
                    throw invalid("unknown sharing '\(value)'; use shared, private or locked")
                }
                mount.sharing = sharing
            case "mode":
                guard let parsed = unsigned(value, radix: 8) else { throw invalid("'mode=\(value)' is not an octal mode such as 0755") }
                mode = parsed
            case "uid":
                guard let parsed = unsigned(value, radix: 10) else { throw invalid("'uid=\(value)' is not a number") }
                uid = parsed
            case "gid":
                guard let parsed = unsigned(value, radix: 10) else { throw invalid("'gid=\(value)' is not a number") }
                gid = parsed
            case "env": mount.env = value
            default:
                let hint = Suggestions.closest(to: key, in: keys).map { "did you mean '\($0)'?" }
                    ?? "use " + Suggestions.list(keys, conjunction: "or")
                throw invalid("unknown key '\(key)'; " + hint)
            }
        }
        let fileInfoAllowed = mount.type == .secret || mount.type == .ssh || mount.type == .cache
        if !fileInfoAllowed {
            for (name, given) in [("mode", mode != nil), ("uid", uid != nil), ("gid", gid != nil)] where given {
                throw invalid("'\(name)' is not allowed for \(mount.type.rawValue) mounts")
            }
        }
        mount.mode = mode
        mount.uid = uid
        mount.gid = gid
        mount.readOnly = readOnly ?? !(mount.type == .cache || mount.type == .tmpfs)
        if mount.type == .secret {
            if mount.from != nil { throw invalid("a secret mount cannot have from=") }
            if mount.sharing != nil { throw invalid("a secret mount cannot have sharing=") }
            if mount.source == nil, mount.target == nil, mount.id == nil { throw invalid("a secret mount needs id=, source= or target=") }
            if mount.source != nil, mount.id != nil { throw invalid("a secret mount takes id= or source=, not both") }
        }
        if mount.sharing != nil, mount.type != .cache { throw invalid("sharing= applies only to cache mounts") }
        return mount
    }

    /// The `from=` value of a spec (variables are not allowed there, so it needs no expansion).
    static func from(_ spec: String) -> String? {
        var from: String?
        for field in csvFields(spec) ?? [] {
            guard let equals = field.firstIndex(of: "="), field[..<equals].lowercased() == "from" else { continue }
            from = String(field[field.index(after: equals)...])
        }
        return from
    }

    /// One CSV record as Go's `encoding/csv` reads it with default settings, or `nil` when a
    /// quote is misplaced.
    static func csvFields(_ text: String) -> [String]? {
        var fields: [String] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while true {
            var field = String.UnicodeScalarView()
            if index < scalars.count, scalars[index] == "\"" {
                index += 1
                var closed = false
                while index < scalars.count {
                    if scalars[index] == "\"" {
                        if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                            field.append("\"")
                            index += 2
                            continue
                        }
                        index += 1
                        closed = true
                        break
                    }
                    field.append(scalars[index])
                    index += 1
                }
                guard closed, index == scalars.count || scalars[index] == "," else { return nil }
            } else {
                while index < scalars.count, scalars[index] != "," {
                    if scalars[index] == "\"" { return nil }
                    field.append(scalars[index])
                    index += 1
                }
            }
            fields.append(String(field))
            guard index < scalars.count else { return fields }
            index += 1
        }
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    /// Go's `strconv.ParseUint(text, radix, 32)`: digits only, no sign or prefix.
    static func unsigned(_ text: String, radix: Int) -> UInt32? {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.isASCII && ("0"..."9").contains($0) }) else { return nil }
        return UInt32(text, radix: radix)
    }

    /// docker/go-units' `RAMInBytes`: a number, an optional space, and an optional binary unit
    /// (`k`, `m`, `g`, `t`, `p`, optionally followed by `i` and/or `b`; or just `b`).
    static func ramBytes(_ text: String) -> Int64? {
        let scalars = Array(text.unicodeScalars)
        guard let separator = scalars.lastIndex(where: { ("0"..."9").contains($0) || $0 == "." || $0 == " " }) else { return nil }
        let number = String(String.UnicodeScalarView(scalars[..<(scalars[separator] == " " ? separator : separator + 1)]))
        let suffix = String(String.UnicodeScalarView(scalars[(separator + 1)...])).lowercased()
        guard !number.hasPrefix("+"), let size = Double(number), size >= 0, size.isFinite else { return nil }
        var multiplier: Double = 1
        if !suffix.isEmpty {
            let units: [Character: Double] = ["k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776,
                                              "p": 1_125_899_906_842_624]
            guard suffix.count <= 3, let first = suffix.first else { return nil }
            if first == "b" {
                guard suffix.count == 1 else { return nil }
            } else {
                guard let unit = units[first] else { return nil }
                multiplier = unit
                let rest = suffix.dropFirst()
                guard rest.isEmpty || rest == "i" || rest == "b" || rest == "ib" else { return nil }
            }
        }
        let bytes = size * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}

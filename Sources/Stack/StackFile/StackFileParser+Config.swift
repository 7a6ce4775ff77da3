import Foundation
import OCI
import Yams
import Support

/// `config:`: the image's runtime configuration (entrypoint, env, user, ports, ...).
extension StackFileParser {
    func parseConfig(_ entry: Entry) throws -> ConfigSpec {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "config", expected: "a mapping of settings such as `entrypoint:` and `env:`")
        }
        var config = ConfigSpec()
        for field in try entries(of: mapping, context: "in config", allowed: Self.configKeys) where !isNull(field.value) {
            switch field.key {
            case "entrypoint": config.entrypoint = try command(field, what: "entrypoint")
            case "cmd": config.cmd = try command(field, what: "cmd")
            case "env": config.env = try parseEnv(field)
            case "workdir":
                let raw = try scalar(field, what: "workdir", expected: "an absolute path inside the image")
                config.workdir = try absolutePath(raw, what: "workdir", at: valueLocation(field))
            case "user": config.user = try parseUser(field)
            case "exposed_ports": config.exposedPorts = try parsePorts(field)
            case "labels": config.labels = try stringMapping(field, what: "labels")
            case "stop_signal": config.stopSignal = try parseStopSignal(field)
            case "volumes": config.volumes = try parseVolumes(field)
            default: break
            }
        }
        return config
    }

    /// A list of strings, or a string run by `/bin/sh -c` (Docker's shell form).
    func command(_ entry: Entry, what: String) throws -> [String] {
        switch entry.value {
        case let .scalar(scalar):
            return ["/bin/sh", "-c", scalar.string]
        case let .sequence(sequence):
            return try sequence.map { try itemString($0, what: what, expected: "a string") }
        default:
            throw typeError(entry, what: what, expected: "a list of strings or a string",
                            hint: "write `\(what): [/path/to/program, arg]`, or a string to run with /bin/sh -c")
        }
    }

    func parseEnv(_ entry: Entry) throws -> [EnvVar] {
        var env: [EnvVar] = []
        switch entry.value {
        case let .mapping(mapping):
            for variable in try entries(of: mapping, context: "in env", allowed: nil) {
                try validateEnvName(variable.key, at: location(variable.keyNode))
                let value: String
                switch variable.value {
                case let .scalar(scalar): value = isNull(variable.value) ? "" : scalar.string
                default:
                    throw typeError(variable, what: variable.key, expected: "a string", subject: "environment variable",
                                    hint: "quote the value, such as \(variable.key): \"...\"")
                }
                env.append(EnvVar(name: variable.key, value: value))
            }
        case let .sequence(sequence):
            var seen: [String: SourceLocation] = [:]
            for item in sequence {
                let text = try itemString(item, what: "env", expected: "a NAME=VALUE string")
                guard let equals = text.firstIndex(of: "=") else {
                    throw StackFileError(location: location(item), message: "env entry '\(text)' has no '='",
                                         hint: "write \(text)=VALUE (\(text)= for an empty value)")
                }
                let name = String(text[..<equals])
                try validateEnvName(name, at: location(item))
                if let first = seen[name] {
                    throw StackFileError(location: location(item), message: "environment variable '\(name)' is set twice",
                                         hint: "it is already set at \(first); remove one of them")
                }
                seen[name] = location(item)
                env.append(EnvVar(name: name, value: String(text[text.index(after: equals)...])))
            }
        default:
            throw typeError(entry, what: "env", expected: "a mapping of NAME: VALUE or a list of NAME=VALUE strings",
                            hint: "write `env: {NAME: value}` or `env: [NAME=value]`")
        }
        return env
    }

    func validateEnvName(_ name: String, at here: SourceLocation) throws {
        let bytes = Array(name.utf8)
        func isNameByte(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
        }
        let valid = bytes.first.map(isNameByte) == true
            && bytes.allSatisfy { isNameByte($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
        guard valid else {
            throw StackFileError(location: here, message: "invalid environment variable name '\(name)'",
                                 hint: "names use letters, digits and '_' and do not start with a digit, such as HTTP_PORT")
        }
    }

    func parseUser(_ entry: Entry) throws -> String {
        let text = try scalar(entry, what: "user", expected: "a user such as 65534, 65534:65534 or nobody")
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let valid = (1...2).contains(parts.count) && parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { !CharacterSet.whitespacesAndNewlines.contains($0) && $0.value >= 0x20 && $0 != "/" }
                && (!part.allSatisfy(\.isNumber) || UInt32(part) != nil)
        }
        guard valid else {
            throw StackFileError(location: valueLocation(entry), message: "invalid user '\(text)'",
                                 hint: "use UID, UID:GID, NAME or NAME:GROUP, such as 65534:65534 or nobody")
        }
        return text
    }

    func parsePorts(_ entry: Entry) throws -> [String] {
        let items = try sequence(entry, what: "exposed_ports", expected: "a list of ports",
                                 scalarHint: { "write `exposed_ports: [\($0)]`" })
        var ports: [String] = []
        var seen: [String: SourceLocation] = [:]
        for item in items {
            let text = try itemString(item, what: "exposed_ports", expected: "a port such as 80 or 53/udp")
            let here = location(item)
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count) else {
                throw StackFileError(location: here, message: "invalid port '\(text)'", hint: "write PORT or PORT/PROTOCOL, such as 80 or 53/udp")
            }
            let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
            guard ["tcp", "udp", "sctp"].contains(proto) else {
                throw StackFileError(location: here, message: "unknown protocol '\(parts[1])' in port '\(text)'",
                                     hint: "use tcp, udp or sctp, such as 53/udp")
            }
            let number = parts[0]
            if number.contains("-") {
                throw StackFileError(location: here, message: "port ranges such as '\(text)' are not supported",
                                     hint: "list each port on its own")
            }
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw StackFileError(location: here, message: "invalid port '\(text)'",
                                     hint: "a port is a number from 1 to 65535, optionally followed by /tcp, /udp or /sctp")
            }
            guard let port = Int(number.count > 5 ? "99999" : number), (1...65535).contains(port) else {
                throw StackFileError(location: here, message: "port \(number) is out of range", hint: "ports are 1 to 65535")
            }
            let normalised = "\(port)/\(proto)"
            if let first = seen[normalised] {
                throw StackFileError(location: here, message: "port \(normalised) is listed twice",
                                     hint: "it is already listed at \(first); remove one of them")
            }
            seen[normalised] = here
            ports.append(normalised)
        }
        return ports
    }

    /// Linux signal names without the SIG prefix (as moby accepts them).
    static let signalNames: [String] = {
        var names = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
                     "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
                     "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS", "RTMIN", "RTMAX"]
        names += (1...15).map { "RTMIN+\($0)" }
        names += (1...14).map { "RTMAX-\($0)" }
        return names
    }()

    func parseStopSignal(_ entry: Entry) throws -> String {
        let text = try scalar(entry, what: "stop_signal", expected: "a signal such as SIGTERM or 15")
        let here = valueLocation(entry)
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let number = Int(text.count > 3 ? "999" : text), (1...64).contains(number) else {
                throw StackFileError(location: here, message: "stop signal \(text) is out of range",
                                     hint: "signal numbers are 1 to 64; or use a name such as SIGTERM")
            }
            return String(number)
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if Self.signalNames.contains(name) { return "SIG" + name }
        let candidates = Self.signalNames.map { "SIG" + $0 }
        let hint = Suggestions.closest(to: "SIG" + name, in: candidates).map { "did you mean '\($0)'?" }
            ?? "use a name such as SIGTERM, SIGINT or SIGQUIT, or a number from 1 to 64"
        throw StackFileError(location: here, message: "unknown stop signal '\(text)'", hint: hint)
    }

    func parseVolumes(_ entry: Entry) throws -> [String] {
        let items = try sequence(entry, what: "volumes", expected: "a list of absolute paths",
                                 scalarHint: { "write `volumes: [\($0)]`" })
        var volumes: [String] = []
        var seen: [String: SourceLocation] = [:]
        for item in items {
            let raw = try itemString(item, what: "volumes", expected: "an absolute path")
            let path = try absolutePath(raw, what: "volume", at: location(item))
            if let first = seen[path] {
                throw StackFileError(location: location(item), message: "volume \(path) is listed twice",
                                     hint: "it is already listed at \(first); remove one of them")
            }
            seen[path] = location(item)
            volumes.append(path)
        }
        return volumes
    }

}

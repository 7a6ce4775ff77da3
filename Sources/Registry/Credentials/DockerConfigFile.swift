#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Support
import OCI

/// docker's config.json (or a containers-auth.json named by REGISTRY_AUTH_FILE), read and
/// rewritten so that everything stackship does not change stays as it was: unknown keys,
/// other registries' entries, member order and number spellings.
struct DockerConfigFile {
    /// The path the file was looked for at.
    let path: String
    /// The top-level object's members (empty when the file does not exist).
    private(set) var root: [ConfigJSON.Member]
    /// True when the file existed.
    let existed: Bool

    // MARK: Reading

    /// Reads `path`; a missing file is an empty config. Throws `CredentialError` for a file that
    /// cannot be read, is not UTF-8 JSON, or whose top level is not an object.
    static func load(path: String) throws -> DockerConfigFile {
        var st = stat()
        if stat(path, &st) != 0 {
            let code = errno
            // ENOTDIR: a parent is a file; there is no config to read (writing one will say why not).
            if code == ENOENT || code == ENOTDIR { return DockerConfigFile(path: path, root: [], existed: false) }
            throw CredentialError.unreadableConfig(path: path, reason: String(cString: strerror(code)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw CredentialError.unreadableConfig(path: path, reason: "it is a directory, not a file")
        }
        let data: Data
        do {
            data = try FileIO.readFile(path)
        } catch let SupportError.io(_, _, code) {
            throw CredentialError.unreadableConfig(path: path, reason: String(cString: strerror(code)))
        }
        return try DockerConfigFile(path: path, contents: data)
    }

    /// Parses `contents` as the file at `path`.
    init(path: String, contents: Data) throws {
        self.path = path
        self.existed = true
        var bytes = [UInt8](contents)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let bad = Self.firstInvalidUTF8(bytes) {
            throw CredentialError.malformedConfig(path: path, reason: "it is not UTF-8 text (an invalid byte at \(Self.position(of: bad, in: bytes)))")
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            root = [] // docker treats an empty file as an empty config
            return
        }
        let value: ConfigJSON
        do {
            value = try ConfigJSON.parse(bytes)
        } catch {
            throw CredentialError.malformedConfig(path: path, reason: "it is not valid JSON: \(error.description)")
        }
        guard let members = value.members else {
            throw CredentialError.malformedConfig(path: path, reason: "its top level is \(value.kind), but docker's config is a JSON object ({\"auths\": {…}})")
        }
        root = members
    }

    private init(path: String, root: [ConfigJSON.Member], existed: Bool) {
        self.path = path
        self.root = root
        self.existed = existed
    }

    /// The value of the last `key` member of `members` (the last one wins, as in docker).
    private static func value(_ key: String, in members: [ConfigJSON.Member]) -> ConfigJSON? {
        members.last(where: { $0.key == key })?.value
    }

    /// The `credsStore` helper name, if one is set (null and "" mean none).
    func credsStore() throws -> String? {
        switch Self.value("credsStore", in: root) {
        case nil, .null?: return nil
        case let .string(name)?: return name.isEmpty ? nil : name
        case let other?: throw CredentialError.malformedConfig(path: path, reason: "\"credsStore\" is \(other.kind), but it must be a string (the NAME of docker-credential-NAME)")
        }
    }

    /// The `credHelpers` entry for `registry`: its key as written and the helper name.
    func credHelper(for registry: String) throws -> (key: String, name: String)? {
        guard let helpers = try object("credHelpers") else { return nil }
        for member in Self.matching(helpers, registry) {
            guard let name = member.value.stringValue else {
                if member.value == .null { continue }
                throw CredentialError.malformedConfig(path: path, reason: "credHelpers[\(ConfigJSON.quoted(member.key))] is \(member.value.kind), but it must be a string (the NAME of docker-credential-NAME)")
            }
            return (member.key, name)
        }
        return nil
    }

    /// The `auths` entries for `registry`, the exact storage key first, then other spellings in
    /// file order.
    func authEntries(for registry: String) throws -> [(key: String, members: [ConfigJSON.Member])] {
        guard let auths = try object("auths") else { return [] }
        return try Self.matching(auths, registry).compactMap { member in
            switch member.value {
            case .null: return nil
            case let .object(fields): return (member.key, fields)
            default:
                throw CredentialError.malformedAuthEntry(path: path, registry: member.key, reason: "its entry is \(member.value.kind), not an object")
            }
        }
    }

    /// The credential an `auths` entry holds: `auth` (base64 `user:password`), else the
    /// `username` and `password` fields, with `identitytoken`; nil for an entry with none.
    func credential(inEntry fields: [ConfigJSON.Member], key: String) throws -> RegistryCredential? {
        func string(_ name: String) throws -> String? {
            switch Self.value(name, in: fields) {
            case nil, .null?: return nil
            case let .string(s)?: return s
            case let other?: throw CredentialError.malformedAuthEntry(path: path, registry: key, reason: "its \"\(name)\" is \(other.kind), not a string")
            }
        }
        var user = "", pass = ""
        if let auth = try string("auth"), !auth.isEmpty {
            var text = auth.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count % 4 != 0 { text += String(repeating: "=", count: 4 - text.count % 4) }
            guard let decoded = Data(base64Encoded: text) else {
                throw CredentialError.malformedAuthEntry(path: path, registry: key, reason: "its \"auth\" is not valid base64")
            }
            guard let pair = String(data: decoded, encoding: .utf8) else {
                throw CredentialError.malformedAuthEntry(path: path, registry: key, reason: "its \"auth\" does not decode to UTF-8 text")
            }
            guard let colon = pair.firstIndex(of: ":") else {
                throw CredentialError.malformedAuthEntry(path: path, registry: key, reason: "its \"auth\" does not decode to USER:PASSWORD (there is no ':')")
            }
            user = String(pair[..<colon])
            pass = String(pair[pair.index(after: colon)...])
        } else {
            user = try string("username") ?? ""
            pass = try string("password") ?? ""
        }
        if let token = try string("identitytoken"), !token.isEmpty {
            return RegistryCredential(
                username: user.isEmpty ? RegistryCredential.identityTokenUsername : user,
                password: pass.isEmpty ? token : pass,
                identityToken: token)
        }
        if user.isEmpty && pass.isEmpty { return nil }
        return RegistryCredential(username: user, password: pass)
    }

    /// The members of the top-level object `key`; nil when absent or null.
    private func object(_ key: String) throws -> [ConfigJSON.Member]? {
        switch Self.value(key, in: root) {
        case nil, .null?: return nil
        case let .object(members)?: return members
        case let other?: throw CredentialError.malformedConfig(path: path, reason: "\"\(key)\" is \(other.kind), but it must be an object keyed by registry")
        }
    }

    /// Members whose key names `registry`, the exact storage key first; for duplicate keys the
    /// last one wins, as in docker.
    private static func matching(_ members: [ConfigJSON.Member], _ registry: String) -> [ConfigJSON.Member] {
        let preferred = RegistryKey.storageKey(registry)
        var seen = Set<String>()
        var found: [ConfigJSON.Member] = []
        for member in members.reversed() where RegistryKey.matches(member.key, registry) && seen.insert(member.key).inserted {
            found.insert(member, at: 0)
        }
        return found.filter { $0.key == preferred } + found.filter { $0.key != preferred }
    }

    // MARK: Changing

    /// Fields of an `auths` entry that hold a secret.
    private static let secretFields: Set<String> = ["auth", "username", "password", "identitytoken", "registrytoken"]

    /// Writes `credential` as the `auths` entry of `registry` under its storage key, keeping the
    /// entry's other fields (such as `email`) and every other entry.
    mutating func setLogin(_ credential: RegistryCredential, for registry: String) {
        let key = RegistryKey.storageKey(registry)
        var auths = (Self.value("auths", in: root)?.members) ?? []
        var fields = (auths.last(where: { $0.key == key })?.value.members ?? []).filter { !Self.secretFields.contains($0.key) }
        var user = credential.username, pass = credential.password
        if let token = credential.identityToken {
            // docker keeps an identity token beside `auth` holding the user name and no password.
            if user == RegistryCredential.identityTokenUsername { user = "" }
            if pass == token { pass = "" }
        }
        if !user.isEmpty || !pass.isEmpty || credential.identityToken == nil {
            fields.insert(.init(key: "auth", value: .string(Data("\(user):\(pass)".utf8).base64EncodedString())), at: 0)
        }
        if let token = credential.identityToken {
            fields.append(.init(key: "identitytoken", value: .string(token)))
        }
        if let i = auths.lastIndex(where: { $0.key == key }) {
            auths[i].value = .object(fields)
            auths = auths.enumerated().filter { $0.offset == i || $0.element.key != key }.map(\.element)
        } else {
            auths.append(.init(key: key, value: .object(fields)))
        }
        setRoot("auths", .object(auths))
    }

    /// Removes the secret fields from every `auths` entry of `registry` (after a credential
    /// helper took over its login); returns whether anything changed.
    mutating func scrubSecrets(for registry: String) -> Bool {
        guard var auths = Self.value("auths", in: root)?.members else { return false }
        var changed = false
        for i in auths.indices where RegistryKey.matches(auths[i].key, registry) {
            guard let fields = auths[i].value.members else { continue }
            let kept = fields.filter { !Self.secretFields.contains($0.key) }
            if kept.count != fields.count {
                auths[i].value = .object(kept)
                changed = true
            }
        }
        if changed { setRoot("auths", .object(auths)) }
        return changed
    }

    /// Removes every `auths` entry of `registry`, however its key is spelled; returns whether
    /// there was one.
    mutating func removeLogins(for registry: String) -> Bool {
        guard var auths = Self.value("auths", in: root)?.members else { return false }
        let before = auths.count
        auths.removeAll { RegistryKey.matches($0.key, registry) }
        guard auths.count != before else { return false }
        setRoot("auths", .object(auths))
        return true
    }

    private mutating func setRoot(_ key: String, _ value: ConfigJSON) {
        if let i = root.lastIndex(where: { $0.key == key }) {
            root[i].value = value
        } else {
            root.append(.init(key: key, value: value))
        }
    }

    // MARK: Writing

    /// Writes the config atomically (a temporary file in the same directory with mode 0600,
    /// fsynced and renamed over the file), following a symlink at `path` to its target and
    /// creating missing parent directories with mode 0700.
    func save() throws {
        let target = Self.resolvingSymlinks(path)
        let directory = (target as NSString).deletingLastPathComponent
        do {
            try Self.makeDirectories(directory.isEmpty ? "." : directory)
        } catch let SupportError.io(p, _, code) {
            throw CredentialError.unwritableConfig(path: path, reason: "cannot create the directory \(p): \(String(cString: strerror(code)))")
        }
        let text = ConfigJSON.object(root).serialized(pretty: true)
        do {
            let writer = try AtomicFileWriter(destination: target, mode: 0o600)
            // The umask cannot widen 0600, but make it exact before the file takes its name.
            guard chmod(writer.temporaryPath, 0o600) == 0 else {
                let code = errno
                writer.abort()
                throw OCIError.io(path: target, operation: "chmod", errno: code)
            }
            do {
                try writer.write(contentsOf: Data(text.utf8))
                try writer.commit()
            } catch {
                writer.abort()
                throw error
            }
        } catch let SupportError.io(_, operation, code) {
            throw CredentialError.unwritableConfig(path: target, reason: "\(operation): \(String(cString: strerror(code)))")
        }
    }

    /// `path` with symlinks at its end followed (up to 32), so a config.json kept elsewhere and
    /// linked in stays linked.
    static func resolvingSymlinks(_ path: String) -> String {
        var current = path
        for _ in 0..<32 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n > 0 else { return current }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        }
        return current
    }

    /// Creates `path` and missing parents with mode 0700 (docker's mode for ~/.docker).
    private static func makeDirectories(_ path: String) throws {
        try FileIO.makeDirectories(path, mode: 0o700)
    }

    // MARK: Positions

    /// The offset of the first byte that is not part of valid UTF-8, or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// "line L, column C" of byte `offset` (columns count characters).
    static func position(of offset: Int, in bytes: [UInt8]) -> String {
        var line = 1, column = 1
        for b in bytes[..<min(offset, bytes.count)] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return "line \(line), column \(column)"
    }
}

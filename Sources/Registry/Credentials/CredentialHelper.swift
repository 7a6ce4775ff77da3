#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Support

/// A docker credential helper, `docker-credential-NAME`, spoken to as docker does: the action
/// (`get`, `store`, `erase`, `list`) is the only argument, the request goes to standard input
/// and the answer comes from standard output.
struct CredentialHelper {
    /// The NAME in `docker-credential-NAME`.
    let name: String
    /// The executable found on PATH.
    let executable: String
    /// The environment the helper runs with.
    let environment: [String: String]
    /// How long one action may take before the helper is killed.
    let timeout: Duration

    /// `docker-credential-NAME`.
    var program: String { "docker-credential-\(name)" }

    /// Used when the environment has no PATH.
    static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"
    /// The most of each output stream kept; a helper's answer is a few hundred bytes.
    static let outputLimit = 1 << 20

    /// Finds `docker-credential-NAME` on the environment's PATH. `entry` and `configPath` say
    /// where the name came from, for the error when it is not there.
    static func locate(name: String, entry: String, configPath: String, environment: [String: String], timeout: Duration) throws -> CredentialHelper {
        guard !name.isEmpty, !name.contains("/"), !name.contains("\0"), name != ".", name != ".." else {
            throw CredentialError.invalidHelperName(name: name, entry: entry, configPath: configPath)
        }
        let program = "docker-credential-\(name)"
        let searchPath = environment["PATH"] ?? defaultSearchPath
        // Relative and empty PATH entries are skipped: a helper is never run from the current directory.
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = (String(directory) as NSString).appendingPathComponent(program)
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return CredentialHelper(name: name, executable: candidate, environment: environment, timeout: timeout)
            }
        }
        throw CredentialError.helperNotFound(helper: program, entry: entry, configPath: configPath, searchPath: searchPath)
    }

    // MARK: The protocol

    /// `get`: the credential stored for `serverURL`, or nil when the helper has none.
    func get(serverURL: String, registry: String) throws -> RegistryCredential? {
        let result = try run("get", input: Data(serverURL.utf8), registry: registry)
        // Whatever the helper printed may hold the secret; redact the one it tried to give.
        let echoed = (try? ConfigJSON.parse([UInt8](result.stdout)))?.members.flatMap { m in m.last(where: { $0.key == "Secret" })?.value.stringValue }
        try check(result, action: "get", registry: registry, secrets: echoed.map { [$0] } ?? [])
        if result.notFound { return nil }
        guard let value = try? ConfigJSON.parse([UInt8](result.stdout)), let fields = value.members else {
            throw CredentialError.helperBadOutput(helper: program, action: "get", registry: registry, reason: "it is not the JSON object {\"ServerURL\", \"Username\", \"Secret\"} of the credential helper protocol")
        }
        func field(_ key: String) throws -> String {
            switch fields.last(where: { $0.key == key })?.value {
            case nil, .null?: return ""
            case let .string(s)?: return s
            case let other?: throw CredentialError.helperBadOutput(helper: program, action: "get", registry: registry, reason: "its \"\(key)\" is \(other.kind), not a string")
            }
        }
        let username = try field("Username"), secret = try field("Secret")
        if username.isEmpty && secret.isEmpty { return nil }
        if username == RegistryCredential.identityTokenUsername { return RegistryCredential(identityToken: secret) }
        return RegistryCredential(username: username, password: secret)
    }

    /// `store`: saves `credential` for `serverURL` (an identity token as user `<token>`).
    func store(_ credential: RegistryCredential, serverURL: String, registry: String) throws {
        var username = credential.username, secret = credential.password
        if let token = credential.identityToken {
            username = RegistryCredential.identityTokenUsername
            secret = token
        }
        let request = ConfigJSON.object([
            .init(key: "ServerURL", value: .string(serverURL)),
            .init(key: "Username", value: .string(username)),
            .init(key: "Secret", value: .string(secret)),
        ]).serialized(pretty: false)
        let result = try run("store", input: Data(request.utf8), registry: registry)
        var secrets = [credential.password, secret, Data("\(credential.username):\(credential.password)".utf8).base64EncodedString()]
        if let token = credential.identityToken { secrets.append(token) }
        try check(result, action: "store", registry: registry, secrets: secrets, notFoundIsFailure: true)
    }

    /// `erase`: forgets `serverURL`; returns false when the helper had nothing for it.
    func erase(serverURL: String, registry: String) throws -> Bool {
        let result = try run("erase", input: Data(serverURL.utf8), registry: registry)
        try check(result, action: "erase", registry: registry, secrets: [])
        return !result.notFound
    }

    /// `list`: the server URLs the helper holds, with their user names.
    func list(registry: String) throws -> [String: String] {
        let result = try run("list", input: Data(), registry: registry)
        try check(result, action: "list", registry: registry, secrets: [], notFoundIsFailure: true)
        guard let value = try? ConfigJSON.parse([UInt8](result.stdout)), let members = value.members else {
            throw CredentialError.helperBadOutput(helper: program, action: "list", registry: registry, reason: "it is not a JSON object of server URLs and user names")
        }
        var out: [String: String] = [:]
        for m in members { out[m.key] = m.value.stringValue ?? "" }
        return out
    }

    /// Throws for a failed run. "credentials not found" is an answer, not a failure, except
    /// where `notFoundIsFailure`. Text the helper printed goes into the error with `secrets`
    /// redacted.
    private func check(_ result: RunResult, action: String, registry: String, secrets: [String], notFoundIsFailure: Bool = false) throws {
        if let signal = result.signal {
            throw CredentialError.helperCrashed(helper: program, action: action, registry: registry, signal: signal)
        }
        guard result.status != 0, notFoundIsFailure || !result.notFound else { return }
        let err = String(decoding: result.stderr, as: UTF8.self)
        let out = String(decoding: result.stdout, as: UTF8.self)
        // docker's helpers print their errors on standard output.
        let text = err.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? out : err
        throw CredentialError.helperFailed(helper: program, action: action, registry: registry, exitStatus: result.status, message: CredentialError.redact(text, secrets: secrets))
    }

    // MARK: Running

    /// What one run of the helper produced.
    struct RunResult {
        var status: Int32
        var signal: Int32?
        var stdout: Data
        var stderr: Data

        /// The protocol's "no credentials" answer: a failure saying "credentials not found".
        var notFound: Bool {
            guard status != 0 else { return false }
            let text = (String(decoding: stdout, as: UTF8.self) + "\n" + String(decoding: stderr, as: UTF8.self)).lowercased()
            return text.contains("credentials not found")
        }
    }

    /// Runs `program action` with `input` on standard input, reading both outputs as they come
    /// and killing the helper after `timeout`. Started through Support's spawner: exactly its
    /// three descriptors, an empty signal mask and default signal handling (Dispatch and Swift
    /// concurrency threads block nearly every signal, which a child would otherwise inherit and
    /// so ignore SIGTERM and Ctrl-C).
    private func run(_ action: String, input: Data, registry: String) throws -> RunResult {
        // Standard input is a socket, not a pipe: a helper that exits without reading it must
        // not kill us with SIGPIPE, and a socket write can refuse the signal per call.
        var pair: [Int32] = [-1, -1], out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Self.streamSocketType, 0, &pair) == 0, pipe(&out) == 0, pipe(&err) == 0 else {
            let reason = String(cString: strerror(errno))
            for fd in pair + out + err where fd >= 0 { close(fd) }
            throw CredentialError.helperCannotRun(helper: program, path: executable, reason: "cannot create its standard streams: \(reason)")
        }
        for fd in pair + out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(pair[0], SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(executable, [action], environment: environment, fds: [pair[1], out[1], err[1]])
        } catch {
            for fd in pair + out + err { close(fd) }
            throw CredentialError.helperCannotRun(helper: program, path: executable, reason: "\(error)")
        }
        for fd in [pair[1], out[1], err[1]] { close(fd) }

        let collectors = [OutputCollector(FileHandle(fileDescriptor: out[0], closeOnDealloc: true)),
                          OutputCollector(FileHandle(fileDescriptor: err[0], closeOnDealloc: true))]
        let readers = DispatchGroup()
        for collector in collectors {
            DispatchQueue.global().async(group: readers) { collector.drain() }
        }
        Self.send(input, to: pair[0])
        shutdown(pair[0], Int32(SHUT_WR))
        close(pair[0])

        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard var status = Self.wait(pid, seconds: seconds) else {
            kill(pid, SIGTERM)
            if Self.wait(pid, seconds: 2) == nil {
                kill(pid, SIGKILL)
                _ = Self.wait(pid, seconds: 2)
            }
            throw CredentialError.helperTimedOut(helper: program, action: action, registry: registry, seconds: seconds)
        }
        // A child the helper left running may hold the pipes open; do not wait on it for long.
        _ = readers.wait(timeout: .now() + 5)
        let signal = status & 0x7f
        if signal == 0 { status = (status >> 8) & 0xff }
        return RunResult(status: signal == 0 ? status : -1, signal: signal == 0 ? nil : signal,
                         stdout: collectors[0].data, stderr: collectors[1].data)
    }

    /// The raw wait status of `pid` once it exits, or nil when it is still running after
    /// `seconds` (checked every 10 ms: a helper's answer is not timed closer than that).
    private static func wait(_ pid: pid_t, seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 && errno != EINTR { return 0 }
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
    }

    #if canImport(Glibc)
    private static let streamSocketType = Int32(SOCK_STREAM.rawValue)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let streamSocketType = SOCK_STREAM
    private static let sendFlags: Int32 = 0
    #endif

    /// Writes `data` to the socket; a helper that stopped reading just loses the rest.
    private static func send(_ data: Data, to fd: Int32) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard var base = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                #if canImport(Glibc)
                let n = Glibc.send(fd, base, left, sendFlags)
                #else
                let n = Darwin.send(fd, base, left, sendFlags)
                #endif
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                base += n
                left -= n
            }
        }
    }
}

/// Reads one output stream of a helper to its end, keeping at most `CredentialHelper.outputLimit` bytes.
private final class OutputCollector: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private var collected = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    /// What was read so far.
    var data: Data { lock.withLock { collected } }

    func drain() {
        let fd = handle.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            lock.withLock {
                let room = CredentialHelper.outputLimit - collected.count
                if room > 0 { collected.append(contentsOf: buffer[0..<min(n, room)]) }
            }
        }
    }
}

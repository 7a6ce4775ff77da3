import Support
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime
import StackshipTesting
import Testing

/// Build steps on the busybox test image (ContainerSupport's): its root unpacked as the lowest
/// layer, a layer above it with the applets the steps need, a runner for runc or crun with its
/// own scratch, cache and state directories under the store's scratch directory.
final class BuildStepFixture: @unchecked Sendable {
    let busybox: BusyboxStore
    let runner: BuildStepRunner
    /// The unpacked image.
    let base: String
    /// Applet links over it (mkdir, rm, ...), as a second lower layer.
    let applets: String
    var lowers: [String] { [applets, base] }
    var path: String { busybox.path }

    init(runtime name: String) throws {
        busybox = try BusyboxStore(extraFiles: ["etc/x": "x\n", "d/old/f": "old\n"])
        base = busybox.path + "/base"
        try Self.unpack(busybox.store, into: base)
        applets = busybox.path + "/applets"
        try FileManager.default.createDirectory(atPath: applets + "/bin", withIntermediateDirectories: true)
        for applet in ["mkdir", "rm", "chown", "ln", "mv", "true", "false", "cp", "chmod", "seq"] {
            try FileManager.default.createSymbolicLink(atPath: applets + "/bin/" + applet, withDestinationPath: "busybox")
        }
        // Fails with the install hint when the runtime is missing (scripts/setup installs both).
        runner = try BuildStepRunner(runtime: try OCIRuntime.locate(name, stateRoot: busybox.path + "/oci"),
                                     scratchDirectory: busybox.path + "/scratch", cacheDirectory: busybox.path + "/cache")
    }

    /// Unpacks the busybox image into `root` (again for each caller: a layer is applied to a copy).
    static func unpack(_ store: OCILayoutStore, into root: String) throws {
        let entry = try store.resolve("busybox:test")
        let manifest = try store.manifest(for: entry.descriptor)
        try ImageUnpacker.unpack(manifest, config: try store.config(of: manifest), from: store, into: root)
    }

    /// A step on the fixture's lowers running `script` with sh -c.
    func step(_ script: String, network: BuildNetwork = .none, mounts: [BuildMount] = [], lines: LineCollector? = nil,
              timeout: Double? = nil, lowers: [String]? = nil) -> BuildStep {
        var output: (@Sendable (String) -> Void)?
        if let lines { output = { lines.append($0) } }
        return BuildStep(lowerDirectories: lowers ?? self.lowers, arguments: ["/bin/sh", "-c", script], environment: ["PATH=/bin"],
                         network: network, mounts: mounts, timeout: timeout, output: output)
    }

    /// The layer of a step's change set, built into the store, and its tar entries.
    func layer(_ result: BuildStepResult) throws -> (BuiltLayer, [TarEntry], Data) {
        let built = try result.layer.build(options: LayerOptions(), into: busybox.store)
        let tar = try Self.tar(of: built, in: busybox.store)
        let reader = TarReader(source: DataSource(tar))
        var entries: [TarEntry] = []
        while let e = try reader.next() { entries.append(e) }
        return (built, entries, tar)
    }

    static func tar(of built: BuiltLayer, in store: OCILayoutStore) throws -> Data {
        let sink = DataSink()
        try Decompressor.source(.gzip, try store.open(built.descriptor)).copy(to: sink)
        return sink.data
    }

    /// What a step may leave behind: mounts under the fixture's directory, runtime state, step
    /// directories other than `keeping`.
    func leftovers(keeping: [BuildStepResult] = []) -> [String] {
        var found: [String] = []
        for line in (try? HostMounts.lines(containing: path)) ?? [] { found.append("mount: \(line)") }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path + "/oci")) ?? [] { found.append("runtime state \(name)") }
        let kept = Set(keeping.map { ($0.directory as NSString).lastPathComponent })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path + "/scratch")) ?? [] where !kept.contains(name) {
            found.append("step directory \(name)")
        }
        for result in keeping {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: result.directory)) ?? []
            if names != ["upper"] { found.append("in \(result.directory): \(names)") }
        }
        return found
    }

    /// Every file under `root` whose bytes contain `needle` (symlinks not followed).
    static func files(under root: String, containing needle: String) -> [String] {
        var hits: [String] = []
        let bytes = Data(needle.utf8)
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let rel = walker.nextObject() as? String {
            let full = root + "/" + rel
            var st = stat()
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            if let data = FileManager.default.contents(atPath: full), data.range(of: bytes) != nil { hits.append(full) }
        }
        return hits
    }
}

/// Output lines as a step streams them.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ line: String) { lock.lock(); storage.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// A TCP listener on a random loopback port that answers every connection with "pong".
final class LoopbackAnswerer: @unchecked Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw StoreSetupError(message: "cannot listen on loopback: \(errno)") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                _ = "pong\n".withCString { write(client, $0, 5) }
                close(client)
            }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

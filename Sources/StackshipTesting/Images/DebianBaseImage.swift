#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Support

/// A real Debian base image for tests: Debian 12 (bookworm) made by
/// `debootstrap --variant=minbase` from Debian's mirror, packed by our own OCI library into a
/// one-layer OCI image layout (`debian:bookworm`, host platform, PATH set, `CMD ["bash"]`).
///
/// debootstrap takes minutes, so the layout is made at most once per machine and kept under
/// `${STACKSHIP_TEST_CACHE:-/var/cache/stackship-tests}/debian-bookworm-minbase/`: it is made in
/// a staging directory beside it and renamed into place only when complete, under a file lock,
/// so parallel tests (in one process or several) wait for the one that makes it.
///
///     let base = try DebianBaseImage.layout()
///     try registry.push(layout: base.path, ref: base.reference, as: "debian:bookworm")
///
/// Needs root (debootstrap chroots and keeps owners) and the network to deb.debian.org the
/// first time; fails with the install hint when debootstrap is missing.
public enum DebianBaseImage {
    /// The Debian suite.
    public static let suite = "bookworm"
    /// The mirror debootstrap downloads from (the one apt uses on this machine).
    public static let mirror = "http://deb.debian.org/debian"
    /// The name the image has in its layout (`oci:PATH:debian:bookworm` for skopeo).
    public static let reference = "debian:bookworm"
    /// The mtime every file in the layer is clamped to, and the config's `created`:
    /// 2023-06-10T00:00:00Z, bookworm's release day. Fixed, so the layer's bytes depend only
    /// on what debootstrap installed.
    public static let epoch: Int64 = 1_686_355_200
    /// The PATH Docker's debian images set.
    public static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// What to do when debootstrap is missing.
    public static let installHint = "debootstrap is not installed: run scripts/setup (apt-get install debootstrap)"

    /// The cached layout.
    public struct Layout: Sendable, Hashable {
        /// The OCI image layout directory.
        public var path: String
        /// The image's name in it (``DebianBaseImage/reference``).
        public var reference: String
        /// The image manifest's descriptor.
        public var manifest: Descriptor
        /// The one layer's diffID (the digest of its tar).
        public var diffID: Digest
    }

    /// Why the image could not be made.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `$STACKSHIP_TEST_CACHE`, else /var/cache/stackship-tests.
    public static var cacheDirectory: String {
        let configured = ProcessInfo.processInfo.environment["STACKSHIP_TEST_CACHE"] ?? ""
        return configured.isEmpty ? "/var/cache/stackship-tests" : configured
    }

    /// Where the layout is kept.
    public static var directory: String { cacheDirectory + "/debian-bookworm-minbase" }

    static let stagingPrefix = ".tmp-debian-bookworm-minbase-"

    /// The cached layout, made first when it is not there yet (minutes: debootstrap). Blocks
    /// the calling thread meanwhile; callers in other threads or processes wait for it.
    public static func layout() throws -> Layout {
        let cache = cacheDirectory
        do {
            try FileIO.makeDirectories(cache)
        } catch {
            throw Failure(description: "cannot create the test cache \(cache) (set STACKSHIP_TEST_CACHE to a writable directory): \(error)")
        }
        // Checked without the lock first: once made, readers never wait for a maker.
        if let made = try? read(directory) { return made }
        return try FileLock.with(cache + "/debian-bookworm-minbase.lock") {
            if let made = try? read(directory) { return made }
            if FileIO.exists(directory) {
                // Not a layout we can read (a different version of this fixture, or damage):
                // made again rather than trusted.
                try FileIO.removeTree(directory)
            }
            StagingDirectory.removeAbandoned(in: cache, prefix: stagingPrefix)
            guard let debootstrap = ChildProcess.which("debootstrap", path: searchPath) else {
                throw Failure(description: installHint)
            }
            let staging = try StagingDirectory(in: cache, prefix: stagingPrefix)
            do {
                try bootstrap(debootstrap, into: staging.path + "/root", log: staging.path + "/debootstrap.log")
                try clean(root: staging.path + "/root")
                try pack(root: staging.path + "/root", into: staging.path + "/layout")
                try staging.commit("layout", to: directory)
            } catch {
                staging.remove()
                throw error
            }
            FileIO.syncDirectory(cache)
            return try read(directory)
        }
    }

    /// PATH plus the sbin directories (debootstrap is in /usr/sbin, which a user's PATH may lack).
    static var searchPath: String {
        (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
    }

    static func bootstrap(_ debootstrap: String, into root: String, log: String) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = searchPath
        environment["LC_ALL"] = "C"
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        let result = try ChildProcess.run(debootstrap, ["--variant=minbase", suite, root, mirror],
                                          environment: environment, appendingTo: log)
        guard result.status == 0 else {
            var tail = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            // debootstrap's own log names the failing package or download.
            if let own = try? String(contentsOfFile: root + "/debootstrap/debootstrap.log", encoding: .utf8) { tail += own }
            let lines = tail.split(separator: "\n").suffix(30).joined(separator: "\n")
            throw Failure(description: "debootstrap --variant=minbase \(suite) \(root) \(mirror) exited \(result.status) "
                                       + "(it needs root and the network to deb.debian.org):\n\(lines)")
        }
    }

    /// Leaves out what a runtime provides and what the host lent debootstrap, as Docker's debian
    /// images do: the contents of /dev, /proc, /sys and /tmp, the host's resolv.conf and hostname,
    /// apt's downloaded lists, archives and package caches.
    static func clean(root: String) throws {
        for dir in ["dev", "proc", "sys", "var/lib/apt/lists", "var/cache/apt/archives", "tmp"] {
            let path = root + "/" + dir
            guard let names = FileIO.names(inDirectory: path) else { continue }
            for name in names where !(dir == "var/lib/apt/lists" && name == "partial")
                && !(dir == "var/cache/apt/archives" && name == "partial") {
                try FileIO.removeTree(path + "/" + name)
            }
        }
        for file in ["etc/resolv.conf", "etc/hostname", "var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin"] {
            unlink(root + "/" + file)
        }
        // The machine-id systemd would make on first boot; empty as Docker's images have it.
        if FileIO.exists(root + "/etc/machine-id") {
            try AtomicFileWriter.write(Data(), to: root + "/etc/machine-id", mode: 0o444)
        }
    }

    /// The root as one layer (numeric owners, mtimes clamped to `epoch`), its config and
    /// manifest, tagged ``reference`` in a new OCI layout at `path`.
    static func pack(root: String, into path: String) throws {
        let store = try OCILayoutStore(root: path, create: true)
        let layer = try UpperDirLayer(upperDirectory: root).build(options: LayerOptions(epoch: epoch), into: store)
        let created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
        var config = ImageConfig.Config()
        config.Env = ["PATH=\(Self.path)"]
        config.Cmd = ["bash"]
        let history = ImageConfig.History(created: created,
                                          createdBy: "debootstrap --variant=minbase \(suite) / \(mirror) (StackshipTesting.DebianBaseImage)")
        let image = ImageConfig(platform: .host, created: created, config: config, diffIDs: [layer.diffID], history: [history])
        let configDescriptor = try store.writeJSON(image, mediaType: MediaType.ociConfig)
        let manifest = try store.writeJSON(Manifest(config: configDescriptor, layers: [layer.descriptor]), mediaType: MediaType.ociManifest)
        try store.tag(manifest, as: try ImageReference(parsing: reference))
    }

    /// The layout at `path`, when it holds the image tagged ``reference`` with all its blobs.
    static func read(_ path: String) throws -> Layout {
        let store = try OCILayoutStore(root: path, create: false)
        let entry = try store.resolve(reference)
        let manifest = try store.manifest(for: entry.descriptor)
        let config = try store.config(of: manifest)
        guard manifest.layers.count == 1, let diffID = config.rootfs.diff_ids.first,
              manifest.layers.allSatisfy({ store.size(of: $0.digest) == $0.size })
        else { throw Failure(description: "\(path) does not hold a complete one-layer \(reference)") }
        return Layout(path: path, reference: reference, manifest: entry.descriptor, diffID: diffID)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How a layer is written.
public struct LayerOptions: Sendable, Hashable {
    public var compression: Compression
    /// Compression level; nil for the algorithm's default (gzip 6, zstd 3).
    public var level: Int?
    /// Compression threads; 0 for one per core. Never changes the output.
    public var threads: Int
    /// Every mtime is clamped to this (SOURCE_DATE_EPOCH, 0 by default), and owners become 0:0.
    public var epoch: Int64

    public init(compression: Compression = .gzip, level: Int? = nil, threads: Int = 0, epoch: Int64 = 0) {
        self.compression = compression
        self.level = level
        self.threads = threads
        self.epoch = epoch
    }

    /// SOURCE_DATE_EPOCH from `environment` when set and valid, else 0.
    public static func sourceDateEpoch(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int64 {
        guard let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return 0 }
        guard let value = Int64(text), value >= 0 else {
            throw OCIError.sourceTree(path: "SOURCE_DATE_EPOCH", reason: "'\(text)' is not a non-negative integer number of seconds")
        }
        return value
    }
}

/// The result of building a layer.
public struct BuiltLayer: Sendable, Hashable {
    /// The (compressed) blob's descriptor.
    public var descriptor: Descriptor
    /// The digest of the uncompressed tar, which the image config lists.
    public var diffID: Digest
    /// Size of the uncompressed tar.
    public var uncompressedSize: Int64
    /// Number of tar entries.
    public var entryCount: Int
}

/// Progress of a layer build: content bytes read so far out of the total.
public struct LayerProgress: Sendable {
    public var bytesDone: Int64
    public var bytesTotal: Int64
    public var filesDone: Int
    public var filesTotal: Int
}

/// Builds layers in one streaming pass: tar → diffID hash → compressor → digest hash → blob,
/// in constant memory whatever the size of the tree.
public enum LayerBuilder {
    /// Writes the tar stream of `entries` into `sink` (finishing it) and returns the diffID
    /// and uncompressed size. Owners are normalised to 0:0 and mtimes clamped to `epoch`.
    public static func writeTar(_ entries: [PlannedEntry], epoch: Int64, to sink: ByteSink,
                                progress: (LayerProgress) -> Void = { _ in }) throws -> (diffID: Digest, size: Int64) {
        let digesting = DigestingSink(next: sink)
        let tar = TarWriter(sink: digesting)
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        let total = entries.reduce(Int64(0)) { $0 + ($1.contentPath != nil ? $1.entry.size : 0) }
        var done: Int64 = 0
        var lastReport: Int64 = 0
        for (index, planned) in entries.enumerated() {
            var e = planned.entry
            e.uid = 0; e.gid = 0; e.uname = ""; e.gname = ""
            e.mtime = min(max(e.mtime, 0), epoch)
            guard let path = planned.contentPath, e.kind == .regular else {
                try tar.writeHeader(e)
                continue
            }
            let fd = try FileIO.open(path, O_RDONLY)
            defer { close(fd) }
            try tar.writeHeader(e)
            var remaining = e.size
            while remaining > 0 {
                let want = Int(min(Int64(bufferSize), remaining))
                let n = try FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), path: path)
                if n == 0 {
                    throw OCIError.sourceTree(path: path, reason: "shrank while it was being read (it was \(e.size) bytes); stop what is writing it and build again")
                }
                try tar.writeContent(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                remaining -= Int64(n)
                done += Int64(n)
            }
            try tar.finishContent(size: e.size)
            if done - lastReport >= 8 << 20 || index == entries.count - 1 {
                lastReport = done
                progress(LayerProgress(bytesDone: done, bytesTotal: total, filesDone: index + 1, filesTotal: entries.count))
            }
        }
        try tar.finish()
        progress(LayerProgress(bytesDone: done, bytesTotal: total, filesDone: entries.count, filesTotal: entries.count))
        return (digesting.digest, digesting.count)
    }

    /// Builds a layer from `sources` into `store` and returns its descriptor and diffID.
    /// Nothing appears in the store unless the whole layer was written.
    public static func build(_ sources: [LayerSource], options: LayerOptions, into store: ContentStore,
                             progress: (LayerProgress) -> Void = { _ in }) throws -> BuiltLayer {
        let entries = try SourceTree.plan(sources)
        let blob = try store.ingest()
        do {
            let compressor = try Compressor.sink(options.compression, level: options.level, threads: options.threads, next: blob)
            let (diffID, size) = try writeTar(entries, epoch: options.epoch, to: compressor, progress: progress)
            let (digest, blobSize) = try blob.commit()
            return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayer(options.compression), digest: digest, size: blobSize),
                              diffID: diffID, uncompressedSize: size, entryCount: entries.count)
        } catch {
            blob.abort()
            throw error
        }
    }

    /// Builds a layer from `sources` into the file at `path` (written atomically).
    public static func build(_ sources: [LayerSource], options: LayerOptions, toFile path: String,
                             progress: (LayerProgress) -> Void = { _ in }) throws -> BuiltLayer {
        let entries = try SourceTree.plan(sources)
        let file = try AtomicFileWriter(destination: path)
        let digesting = DigestingSink(next: file)
        let compressor = try Compressor.sink(options.compression, level: options.level, threads: options.threads, next: digesting)
        let (diffID, size) = try writeTar(entries, epoch: options.epoch, to: compressor, progress: progress)
        try file.commit()
        return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayer(options.compression), digest: digesting.digest, size: digesting.count),
                          diffID: diffID, uncompressedSize: size, entryCount: entries.count)
    }
}

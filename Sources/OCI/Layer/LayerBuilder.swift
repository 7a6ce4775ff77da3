#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

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

    public init(descriptor: Descriptor, diffID: Digest, uncompressedSize: Int64, entryCount: Int) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.entryCount = entryCount
    }
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
    /// Writes the tar stream of `sources` into `sink` (finishing it) and returns the diffID,
    /// the uncompressed size and the number of entries. Owners are normalised to 0:0 and
    /// mtimes clamped to `epoch`. The tree is walked twice (once to size it for progress, once
    /// to write it), so no list of its files is ever held.
    public static func writeTar(_ sources: [LayerSource], epoch: Int64, to sink: ByteSink,
                                progress: (LayerProgress) -> Void = { _ in }) throws -> (diffID: Digest, size: Int64, entries: Int) {
        let totals = try SourceTree.measure(sources)
        var count = 0
        let (diffID, size) = try writeTar(epoch: epoch, to: sink, totals: totals, progress: progress) { emit in
            try SourceTree.walk(sources) { count += 1; try emit($0) }
        }
        return (diffID, size, count)
    }

    /// Writes the tar stream of planned `entries` into `sink` (finishing it).
    public static func writeTar(_ entries: [PlannedEntry], epoch: Int64, to sink: ByteSink,
                                progress: (LayerProgress) -> Void = { _ in }) throws -> (diffID: Digest, size: Int64) {
        let bytes = entries.reduce(Int64(0)) { $0 + ($1.contentPath != nil ? $1.entry.size : 0) }
        return try writeTar(epoch: epoch, to: sink, totals: (entries.count, bytes), progress: progress) { emit in
            for e in entries { try emit(e) }
        }
    }

    private static func writeTar(epoch: Int64, to sink: ByteSink, totals: (entries: Int, bytes: Int64),
                                 progress: (LayerProgress) -> Void,
                                 produce: ((PlannedEntry) throws -> Void) throws -> Void) throws -> (diffID: Digest, size: Int64) {
        // The entry callback reports progress; it runs only during `produce`, never after.
        try withoutActuallyEscaping(progress) { progress in
            try streamTar(epoch: epoch, to: sink, totals: totals, progress: progress, produce: produce)
        }
    }

    private static func streamTar(epoch: Int64, to sink: ByteSink, totals: (entries: Int, bytes: Int64),
                                  progress: @escaping (LayerProgress) -> Void,
                                  produce: ((PlannedEntry) throws -> Void) throws -> Void) throws -> (diffID: Digest, size: Int64) {
        let digesting = DigestingSink(next: sink)
        let tar = TarWriter(sink: digesting)
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        var lastReport: Int64 = 0
        var index = 0
        try produce { planned in
            index += 1
            var e = planned.entry
            e.uid = 0; e.gid = 0; e.uname = ""; e.gname = ""
            e.mtime = min(max(e.mtime, 0), epoch)
            guard let path = planned.contentPath, e.kind == .regular else {
                try tar.writeHeader(e)
                return
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
            if done - lastReport >= 8 << 20 {
                lastReport = done
                progress(LayerProgress(bytesDone: done, bytesTotal: totals.bytes, filesDone: index, filesTotal: totals.entries))
            }
        }
        try tar.finish()
        progress(LayerProgress(bytesDone: done, bytesTotal: totals.bytes, filesDone: index, filesTotal: totals.entries))
        return (digesting.digest, digesting.count)
    }

    /// Builds a layer from `sources` into `store` and returns its descriptor and diffID.
    /// Nothing appears in the store unless the whole layer was written.
    public static func build(_ sources: [LayerSource], options: LayerOptions, into store: ContentStore,
                             progress: (LayerProgress) -> Void = { _ in }) throws -> BuiltLayer {
        let blob = try store.ingest()
        do {
            let compressor = try Compressor.sink(options.compression, level: options.level, threads: options.threads, next: blob)
            let (diffID, size, count) = try writeTar(sources, epoch: options.epoch, to: compressor, progress: progress)
            let (digest, blobSize) = try blob.commit()
            return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayer(options.compression), digest: digest, size: blobSize),
                              diffID: diffID, uncompressedSize: size, entryCount: count)
        } catch {
            blob.abort()
            throw error
        }
    }

    /// Builds a layer from `sources` into the file at `path` (written atomically).
    public static func build(_ sources: [LayerSource], options: LayerOptions, toFile path: String,
                             progress: (LayerProgress) -> Void = { _ in }) throws -> BuiltLayer {
        let file = try AtomicFileWriter(destination: path)
        let digesting = DigestingSink(next: file)
        let compressor = try Compressor.sink(options.compression, level: options.level, threads: options.threads, next: digesting)
        let (diffID, size, count) = try writeTar(sources, epoch: options.epoch, to: compressor, progress: progress)
        try file.commit()
        return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayer(options.compression), digest: digesting.digest, size: digesting.count),
                          diffID: diffID, uncompressedSize: size, entryCount: count)
    }
}

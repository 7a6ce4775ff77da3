import Support
import Foundation
import OCI

/// A package artifact file and its facts.
public struct ArtifactFile: Sendable, Hashable {
    /// Where it is.
    public var path: String
    /// sha256 of the file.
    public var digest: Digest
    /// Its size in bytes.
    public var size: Int64
    /// Its compression.
    public var compression: Compression
}

/// Makes package artifacts: a `$PREFIX` tree as a reproducible compressed tar.
public enum ArtifactBuilder {
    /// Writes `directory`'s tree as a tar compressed with `compression` to `path` (atomically).
    ///
    /// The bytes depend only on the tree's names, contents, modes and symlinks: entries are
    /// sorted, owners are 0:0, mtimes are clamped to `epoch` (SOURCE_DATE_EPOCH, 0 by default),
    /// and both compressors are deterministic whatever the number of threads.
    public static func make(from directory: String, to path: String, compression: Compression = .zstd,
                            level: Int? = nil, threads: Int = 0, epoch: Int64 = 0) throws -> ArtifactFile {
        do {
            let built = try LayerBuilder.build([LayerSource(source: directory, destination: "/")],
                                               options: LayerOptions(compression: compression, level: level, threads: threads, epoch: epoch),
                                               toFile: path)
            return ArtifactFile(path: path, digest: built.descriptor.digest, size: built.descriptor.size, compression: compression)
        } catch {
            throw DirectoryBackend.translate(error, path: path)
        }
    }

    /// The digest, size and compression (sniffed) of an existing artifact file, read once.
    public static func describe(_ path: String) throws -> ArtifactFile {
        do {
            let source = try FileSource(path: path)
            let digesting = DigestingSink(next: nil)
            let head = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 4)
            defer { head.deallocate() }
            let n = try source.readFully(into: head)
            try digesting.write(UnsafeRawBufferPointer(rebasing: head[0..<n]))
            try source.copy(to: digesting)
            return ArtifactFile(path: path, digest: digesting.digest, size: digesting.count,
                                compression: Compression.sniff(Array(UnsafeRawBufferPointer(rebasing: head[0..<n]))))
        } catch {
            throw DirectoryBackend.translate(error, path: path)
        }
    }
}

import Foundation
import Support

/// The images of an archive file (`oci-archive:` or `docker-archive:`), read into a scratch
/// layout: every blob checked against its digest and every layer against its diffID on the way
/// in, so what is read from it afterwards is sound. The scratch layout is removed with this
/// value (or by `removeAbandoned` after a crash).
public final class ArchiveContents: @unchecked Sendable {
    public let path: String
    public let format: ArchiveFormat
    public let images: [LoadedImage]
    let layout: OCILayoutStore
    private let scratch: StagingDirectory

    /// Reads the archive at `path` into a scratch layout under `scratchParent` (put it on the
    /// destination's file system, so copying from it links instead of copying).
    public init(path: String, scratchParent: String) throws {
        self.path = path
        scratch = try StagingDirectory(in: scratchParent, prefix: ArchiveContents.scratchPrefix)
        do {
            layout = try OCILayoutStore(root: scratch.path)
            (format, images) = try ImageArchive.load(path, into: layout)
        } catch {
            scratch.remove()
            throw error
        }
    }

    deinit { scratch.remove() }

    /// Scratch layouts are directories named like this.
    public static let scratchPrefix = ".tmp-archive-"

    /// Every image of the archive, as sources named as the archive names them (a bare-tag ref
    /// name after the archive's file name).
    public func sources() throws -> [ImageSource] {
        try images.map { image in
            let references = image.references.isEmpty ? image.refNames.flatMap { LayoutSource.references(fromRefName: $0, container: path) } : image.references
            return ArchiveSource(contents: self, inner: try LayoutSource(layout: layout, selector: .descriptor(image.descriptor, references: references),
                                                                         name: "\(format == .oci ? "oci-archive" : "docker-archive"):\(path)"))
        }
    }

    /// The image `reference` names (skopeo's syntax: an OCI archive's ref name, a docker
    /// archive's `name:tag` or `@N`), or the only one when nil.
    public func source(_ reference: String?) throws -> ImageSource {
        let display = "\(format == .oci ? "oci-archive" : "docker-archive"):\(path)\(reference.map { ":\($0)" } ?? "")"
        let pick: LoadedImage?
        if let reference {
            if reference.hasPrefix("@"), let n = Int(reference.dropFirst()), images.indices.contains(n) {
                pick = images[n]
            } else {
                pick = images.first { $0.refNames.contains(reference) || $0.references.contains { $0.familiar == reference || $0.description == reference } }
            }
        } else {
            pick = images.count == 1 ? images[0] : nil
        }
        guard let pick else {
            let names = images.flatMap { $0.refNames.isEmpty ? $0.references.map(\.familiar) : $0.refNames }
            throw OCIError.archive(path: path, reason: reference == nil
                ? "it holds \(images.count) images\(names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"); name one as \(display):REF"
                : "it holds no image named '\(reference!)'\(names.isEmpty ? "" : "; it has \(names.joined(separator: ", "))")")
        }
        let named = reference.map { $0.hasPrefix("@") ? [] : LayoutSource.references(fromRefName: $0, container: path) } ?? []
        let references = named.isEmpty ? (pick.references.isEmpty ? pick.refNames.flatMap { LayoutSource.references(fromRefName: $0, container: path) } : pick.references) : named
        return ArchiveSource(contents: self, inner: try LayoutSource(layout: layout, selector: .descriptor(pick.descriptor, references: references), name: display))
    }
}

/// An image of an archive: a layout source that keeps the archive's scratch layout alive.
struct ArchiveSource: ImageSource {
    let contents: ArchiveContents
    let inner: LayoutSource
    var name: String { inner.name }
    var references: [ImageReference] { inner.references }
    func root() async throws -> ManifestContent { try await inner.root() }
    func content(_ descriptor: Descriptor) async throws -> Data { try await inner.content(descriptor) }
    func blob(_ descriptor: Descriptor, offset: Int64, length: Int64?) async throws -> BlobChunks {
        try await inner.blob(descriptor, offset: offset, length: length)
    }
    func localPath(of descriptor: Descriptor) -> String? { inner.localPath(of: descriptor) }
}

/// Writes images into an archive file (`oci-archive:` or `docker-archive:`): they gather in a
/// scratch layout, checked as any layout destination checks them, and `finish` writes the
/// archive atomically (nothing at `path` until it is whole).
public final class ArchiveDestination: ImageDestination, @unchecked Sendable {
    public let path: String
    public let format: ArchiveFormat
    public var name: String { "\(format == .oci ? "oci-archive" : "docker-archive"):\(path)" }
    /// The names given on the command line (`oci-archive:PATH:REF`), else the source's.
    let names: [String]?
    private let scratch: StagingDirectory
    private let layout: OCILayoutStore
    private let inner: LayoutDestination
    private var images: [ArchiveImage] = []
    private let lock = NSLock()

    public init(path: String, format: ArchiveFormat, names: [String]? = nil, scratchParent: String) throws {
        self.path = path
        self.format = format
        self.names = names
        scratch = try StagingDirectory(in: scratchParent, prefix: ArchiveContents.scratchPrefix)
        do {
            layout = try OCILayoutStore(root: scratch.path)
            inner = try LayoutDestination(layout: layout, naming: .none, name: "\(format == .oci ? "oci-archive" : "docker-archive"):\(path)")
        } catch {
            scratch.remove()
            throw error
        }
    }

    deinit { scratch.remove() }

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool { try await inner.hasBlob(descriptor) }
    public func putBlob(_ descriptor: Descriptor, of image: Manifest, from source: ImageSource,
                        progress: @escaping @Sendable (Int64) -> Void) async throws -> BlobOutcome {
        try await inner.putBlob(descriptor, of: image, from: source, progress: progress)
    }
    public var checksDiffIDs: Bool { true }
    public func verifyLayer(_ layer: Descriptor, diffID: Digest, source: String) async throws {
        try await inner.verifyLayer(layer, diffID: diffID, source: source)
    }
    public func putManifest(_ content: ManifestContent) async throws { try await inner.putManifest(content) }

    public func commit(_ root: ManifestContent, references: [ImageReference]) async throws {
        try await inner.commit(root, references: [])
        var image = ArchiveImage(descriptor: root.descriptor, references: references)
        if let names {
            image.references = names.flatMap { LayoutSource.references(fromRefName: $0) }
            image.refNames = names
        }
        lock.withLock { images.append(image) }
    }

    public func finish() async throws {
        try await inner.finish()
        let all = lock.withLock { images }
        try ImageArchive.save(all, from: layout, format: format, to: path)
        scratch.remove()
    }
}

import Foundation
import Support

/// An image in an OCI image layout: the local store (`store:REF`) or any layout directory
/// (`oci:DIR[:REF]`, as skopeo and umoci write them).
public struct LayoutSource: ImageSource {
    /// How the image is picked from the layout's `index.json`.
    public enum Selector: Sendable {
        /// What the store's commands take: a reference, an image ID or a digest (prefix).
        case store(String)
        /// skopeo's `oci:DIR:REF`: the entry whose `org.opencontainers.image.ref.name` is REF,
        /// literally; nil for the only image of the layout.
        case refName(String?)
        /// A manifest or index of the layout, by descriptor, known by `references`.
        case descriptor(Descriptor, references: [ImageReference])
    }

    public let layout: OCILayoutStore
    public let name: String
    public let references: [ImageReference]
    let top: Descriptor

    /// Picks the image at once, so a wrong name fails before anything moves.
    public init(layout: OCILayoutStore, selector: Selector, name: String? = nil) throws {
        self.layout = layout
        switch selector {
        case .store(let reference):
            let entry = try layout.resolve(reference)
            top = entry.descriptor
            references = [entry.matchedReference ?? entry.name.flatMap { try? ImageReference(parsing: $0) }].compactMap { $0 }
            self.name = name ?? reference
        case .refName(let refName):
            let entries = try layout.entries()
            let display = name ?? "oci:\(layout.root)\(refName.map { ":\($0)" } ?? "")"
            if let refName {
                guard let hit = entries.last(where: { $0.name == refName }) else {
                    throw OCIError.imageNotFound(refName, store: layout.root)
                }
                top = hit.descriptor
                references = Self.references(fromRefName: refName, container: layout.root)
            } else {
                guard entries.count == 1 else {
                    throw OCIError.archive(path: display, reason: entries.isEmpty ? "it holds no image"
                        : "it holds \(entries.count) images (\(entries.compactMap(\.name).joined(separator: ", "))); name one as \(display):REF")
                }
                top = entries[0].descriptor
                references = entries[0].name.map { Self.references(fromRefName: $0, container: layout.root) } ?? []
            }
            self.name = display
        case let .descriptor(descriptor, refs):
            top = descriptor
            references = refs
            self.name = name ?? "\(layout.root)@\(descriptor.digest)"
        }
    }

    /// A ref name that is a full reference (`ghcr.io/o/app:1`, `hello:1`) names the image. A
    /// bare tag (`latest`, as `skopeo copy … oci-archive:alpine.tar:latest` writes) names it
    /// after the file or folder it came from (`alpine:latest`), when `container` is given: more
    /// use than podman's `localhost/latest:latest`. Anything else names none.
    public static func references(fromRefName refName: String, container: String? = nil) -> [ImageReference] {
        if refName.contains(":") || refName.contains("/") || refName.contains("@") {
            return (try? ImageReference(parsing: refName)).map { [$0] } ?? []
        }
        guard let container, let repository = repositoryName(from: container),
              let r = try? ImageReference(parsing: "\(repository):\(refName)") else { return [] }
        return [r]
    }

    /// A repository name made from a path's last component: extensions dropped, lowercased,
    /// other characters made '-' (`/tmp/My Alpine.tar.gz` → `my-alpine`).
    static func repositoryName(from path: String) -> String? {
        var base = FileIO.split(path).name.lowercased()
        for ext in [".gz", ".zst", ".tgz", ".tar", ".oci"] where base.hasSuffix(ext) { base.removeLast(ext.count) }
        var name = String(base.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "_" || $0 == "-" ? $0 : "-" })
        while let first = name.first, !(first.isLetter || first.isNumber) { name.removeFirst() }
        while let last = name.last, !(last.isLetter || last.isNumber) { name.removeLast() }
        return name.isEmpty ? nil : name
    }

    public func root() async throws -> ManifestContent {
        var descriptor = top
        descriptor.annotations = nil
        return ManifestContent(descriptor: descriptor, bytes: try layout.read(top))
    }

    public func content(_ descriptor: Descriptor) async throws -> Data {
        try layout.read(descriptor)
    }

    public func blob(_ descriptor: Descriptor, offset: Int64, length: Int64?) async throws -> BlobChunks {
        guard let size = layout.size(of: descriptor.digest) else { throw OCIError.blobNotFound(descriptor.digest, store: layout.root) }
        guard size == descriptor.size else {
            throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: size, source: layout.root)
        }
        return BlobFile.chunks(path: layout.path(of: descriptor.digest), offset: offset, length: length ?? (size - offset))
    }

    public func localPath(of descriptor: Descriptor) -> String? {
        layout.contains(descriptor.digest) ? layout.path(of: descriptor.digest) : nil
    }
}

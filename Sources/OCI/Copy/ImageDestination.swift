import Foundation

/// What happened to one blob of a copy.
public enum BlobOutcome: String, Sendable {
    /// The destination had it; nothing was sent.
    case existed
    /// Mounted from another repository of the same registry; nothing was sent.
    case mounted
    /// Linked from a file on the same file system; nothing was copied.
    case linked
    /// Its bytes were sent to a registry.
    case uploaded
    /// Its bytes were written into a local store, layout or archive.
    case downloaded
}

/// Progress of a copy, for a caller to show.
public enum TransferEvent: Sendable {
    case blobStarted(Digest, size: Int64)
    case blobProgress(Digest, done: Int64, size: Int64)
    case blobFinished(Digest, size: Int64, BlobOutcome)
    case manifestWritten(String, Digest)
}

/// Where an image is written: the local store, an OCI layout directory, an archive, a registry
/// repository. `ImageCopier` puts blobs (the config first, then the layers), then manifests
/// children first, then commits the root; `finish` ends the destination's work (an archive is
/// written then).
///
/// A destination verifies what it stores: sizes and digests always, and, where it keeps
/// images for use (the store, a layout, an archive), each new layer against its diffID.
public protocol ImageDestination: Sendable {
    /// How the user named it, for messages.
    var name: String { get }
    /// True if the blob is there already.
    func hasBlob(_ descriptor: Descriptor) async throws -> Bool
    /// Stores the blob `descriptor` read from `source`, checking its size and digest. `image`
    /// is the manifest it belongs to (a registry mounts a base image's layers from the base's
    /// repository when the manifest names it).
    func putBlob(_ descriptor: Descriptor, of image: Manifest, from source: ImageSource,
                 progress: @escaping @Sendable (Int64) -> Void) async throws -> BlobOutcome
    /// True when layers put here are to be checked against their config's diffIDs.
    var checksDiffIDs: Bool { get }
    /// Checks a layer put here decompresses to `diffID`; `source` names the image in errors.
    func verifyLayer(_ layer: Descriptor, diffID: Digest, source: String) async throws
    /// Stores a manifest or index that a later one references (by digest).
    func putManifest(_ content: ManifestContent) async throws
    /// Stores the root manifest or index and names it as the destination says, with the
    /// source's `references` for destinations that take their names from the source.
    func commit(_ root: ManifestContent, references: [ImageReference]) async throws
    /// Ends the destination's work after every image was committed (an archive is written).
    func finish() async throws
}

import Support
import Foundation
import OCI

/// Extracts a package artifact (a tar, plain or compressed) into a directory with the safe
/// extractor's package policy: no `..`, no writing through links, no devices, bounded size.
public enum ArtifactExtractor {
    /// Extracts `artifact` into `directory`, which must exist; returns the number of entries.
    public static func extract(_ artifact: String, into directory: String, limits: ExtractionLimits = ExtractionLimits()) throws -> Int {
        let name = "package artifact \(artifact)"
        do {
            let (_, source) = try Decompressor.sniffing(try FileSource(path: artifact))
            let extractor = try SafeExtractor(root: directory, policy: .packageArtifact(limits: limits))
            try extractor.apply(source, name: name)
            return extractor.entriesRead
        } catch let error as OCIError {
            throw SafeExtractor.naming(error, layer: name)
        }
    }
}

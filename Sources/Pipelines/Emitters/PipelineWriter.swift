import Foundation

/// Writes emitted files into a folder: each file atomically (temporary file beside it, fsync,
/// rename), so no reader ever sees half a pipeline file. Files not emitted are left alone.
public enum PipelineWriter {
    /// Writes `pipeline.files` under `folder`, creating directories as needed, in path order.
    /// - Returns: the absolute paths written, sorted.
    /// - Throws: `PipelineError.invalidName` for an absolute path or one with `..` (nothing is
    ///   written then), `.writeFailed` when the disk refuses.
    @discardableResult
    public static func write(_ pipeline: EmittedPipeline, to folder: URL) throws -> [String] {
        for path in pipeline.files.keys {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            if path.hasPrefix("/") || path.isEmpty || parts.contains("..") || parts.contains("") {
                throw PipelineError.invalidName(name: path, reason: "an emitted file must have a relative path inside the output folder")
            }
        }
        var written: [String] = []
        for (path, text) in pipeline.files.sorted(by: { $0.key < $1.key }) {
            let url = folder.appendingPathComponent(path)
            try AtomicFile.write(Data(text.utf8), to: url)
            written.append(url.path)
        }
        return written
    }
}

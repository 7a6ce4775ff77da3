import Foundation
import Support

/// Writes a file atomically through Support's `AtomicFileWriter` (a temporary file in the same
/// directory, fsync, rename), creating the directory; failures become `PipelineError`s.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        do {
            try FileIO.makeDirectories(url.deletingLastPathComponent().path)
            try AtomicFileWriter.write(data, to: url.path)
        } catch let SupportError.io(path, _, code) {
            throw PipelineError.writeFailed(path: path == url.path ? url.path : path, reason: String(cString: strerror(code)))
        }
    }
}

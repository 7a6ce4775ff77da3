import Foundation
import OCI
import Support

/// One case's scratch directory: the build context (with the Dockerfile), secret files outside
/// it, and a folder per builder for its storage and the layout it exports. Removed afterwards.
final class CaseWorkspace {
    let root: String
    let context: String
    let dockerfile: String
    let registry: String
    /// `--secret id=ID,src=PATH` values.
    private(set) var secretArguments: [String] = []

    init(for c: ConformanceCase, registry: String, root: String) throws {
        self.root = root
        self.registry = registry
        context = root + "/context"
        dockerfile = context + "/Dockerfile"
        try FileIO.makeDirectories(context)
        for item in c.context { try Self.write(item, in: context) }
        try Data(c.dockerfileText(registry: registry).utf8).write(to: URL(fileURLWithPath: dockerfile))
        try FileIO.makeDirectories(root + "/secrets")
        for (id, value) in c.secrets.sorted(by: { $0.key < $1.key }) {
            let path = root + "/secrets/" + id
            try Data(value.utf8).write(to: URL(fileURLWithPath: path))
            secretArguments.append("id=\(id),src=\(path)")
        }
    }

    /// A scratch directory for one builder.
    func directory(_ name: String) throws -> String {
        let path = root + "/" + name
        try FileIO.makeDirectories(path)
        return path
    }

    private static func write(_ item: ContextItem, in context: String) throws {
        func prepare(_ rel: String) throws -> String {
            let path = context + "/" + rel
            try FileIO.makeDirectories((path as NSString).deletingLastPathComponent)
            return path
        }
        switch item {
        case .file(let rel, let content, let mode):
            let path = try prepare(rel)
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            try setMode(path, mode)
        case .directory(let rel, let mode):
            let path = try prepare(rel)
            try FileIO.makeDirectories(path)
            try setMode(path, mode)
        case .symlink(let rel, let target):
            try FileManager.default.createSymbolicLink(atPath: try prepare(rel), withDestinationPath: target)
        case .tar(let rel, let gzip, let entries):
            let path = try prepare(rel)
            let data = DataSink()
            let sink = gzip ? try Compressor.sink(.gzip, next: data) : data
            let tar = TarWriter(sink: sink)
            for item in entries {
                switch item.kind {
                case .file(let content):
                    try tar.write(TarEntry(path: item.path, kind: .regular, mode: item.mode), content: Array(content.utf8))
                case .directory:
                    try tar.write(TarEntry(path: item.path, kind: .directory, mode: item.mode))
                case .symlink(let target):
                    try tar.write(TarEntry(path: item.path, kind: .symlink, mode: item.mode, linkTarget: target))
                }
            }
            try tar.finish()
            try data.data.write(to: URL(fileURLWithPath: path))
            try setMode(path, 0o644)
        }
    }

    /// chmod, which (unlike a create with a mode) the umask does not narrow.
    private static func setMode(_ path: String, _ mode: UInt32) throws {
        guard chmod(path, mode_t(mode)) == 0 else { throw SupportError.io(path: path, operation: "chmod", errno: errno) }
    }
}

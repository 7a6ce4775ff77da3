import Foundation
import Support
@testable import OCI

/// A temporary directory removed when the value is dropped.
final class TempDir {
    let path: String
    init(_ label: String = "t") {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-\(label)-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ rel: String, _ content: String, mode: Int = 0o644) throws {
        let p = path + "/" + rel
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: p))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: p)
    }

    func dir(_ rel: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + rel, withIntermediateDirectories: true)
    }

    func link(_ rel: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path + "/" + rel, withDestinationPath: target)
    }
}

/// Lists a tar stream's entries.
func listTar(_ data: Data) throws -> [TarEntry] {
    let r = TarReader(source: DataSource(data))
    var out: [TarEntry] = []
    while let e = try r.next() { out.append(e) }
    return out
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CSupport
import CRuntime

/// Resolves an image's `User` ("uid", "uid:gid", "name", "name:group", ...) against the
/// /etc/passwd and /etc/group inside its root filesystem, as runc's libcontainer/user does.
/// The files are opened inside the root (a symlinked /etc/passwd cannot point at the host's).
public enum UserResolver {
    public static func resolve(_ spec: String?, root: String) throws -> RuntimeSpec.User {
        let text = (spec ?? "").trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return .init(uid: 0, gid: 0, additionalGids: nil) }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        let groupPart = parts.count > 1 ? parts[1] : nil
        let passwd = read("/etc/passwd", root: root).map(parse) ?? []
        let groups = read("/etc/group", root: root).map(parse) ?? []

        let uid: UInt32
        var gid: UInt32 = 0
        var name: String?
        if let numeric = UInt32(userPart) {
            uid = numeric
            if let entry = passwd.first(where: { $0.count > 3 && UInt32($0[2]) == numeric }) {
                gid = UInt32(entry[3]) ?? 0
                name = entry[0]
            }
        } else {
            guard let entry = passwd.first(where: { $0.count > 3 && $0[0] == userPart }),
                  let u = UInt32(entry[2]) else {
                throw RuntimeError.badUser(spec: text, reason: "no user '\(userPart)' in the image's /etc/passwd; use a numeric uid (e.g. 1000:1000) or add the user to the image")
            }
            uid = u
            gid = UInt32(entry[3]) ?? 0
            name = userPart
        }
        if let groupPart {
            if let numeric = UInt32(groupPart) {
                gid = numeric
            } else if let entry = groups.first(where: { $0.count > 2 && $0[0] == groupPart }), let g = UInt32(entry[2]) {
                gid = g
            } else {
                throw RuntimeError.badUser(spec: text, reason: "no group '\(groupPart)' in the image's /etc/group; use a numeric gid or add the group to the image")
            }
        }
        var additional: [UInt32] = []
        if let name {
            for entry in groups where entry.count > 3 {
                let members = entry[3].split(separator: ",").map(String.init)
                if members.contains(name), let g = UInt32(entry[2]), g != gid { additional.append(g) }
            }
        }
        return .init(uid: uid, gid: gid, additionalGids: additional.isEmpty ? nil : additional.sorted())
    }

    private static func parse(_ text: String) -> [[String]] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }

    /// A small file read through openat2(RESOLVE_IN_ROOT); nil when absent.
    static func read(_ path: String, root: String, limit: Int = 1 << 20) -> String? {
        let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootfd >= 0 else { return nil }
        defer { close(rootfd) }
        let fd = stackship_open_in_root(rootfd, path, O_RDONLY, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count < limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// The build context (`context:`) and the checks that keep a stack file's host paths inside it,
/// and tags unique across images.
///
/// A stack file comes with the code it builds, so a pull request can change it: without these
/// checks `source: ../../../etc` (or a symlink to it) would put the CI runner's files into an
/// image it then publishes. As with Docker's build context, every path on this machine that the
/// file names must lie inside one folder, symlinks resolved: the stack file's own folder, or the
/// folder `context:` names.
extension StackFileParser {
    /// Reads `context:`, a folder relative to the stack file (such as `..`), that must exist.
    mutating func parseContext(_ entry: Entry) throws {
        let raw = try scalar(entry, what: "context", expected: "the path of a folder, relative to the stack file, such as ..")
        let here = valueLocation(entry)
        guard !raw.isEmpty else {
            throw StackFileError(location: here, message: "`context` is empty",
                                 hint: "name the folder that holds every source, such as `context: ..`, or remove it to use \(directory)")
        }
        let absolute = StackPaths.absolute(raw, relativeTo: directory)
        let kind = try checkPath(raw: raw, absolute: absolute, what: "build context", at: here)
        guard kind == .directory else {
            throw StackFileError(location: here, message: "build context '\(raw)' is a file (\(absolute))",
                                 hint: "name the folder that holds the sources, such as `context: ..`")
        }
        context = StackPaths.resolved(absolute)
        contextLocation = here
    }

    /// Throws unless the host path `absolute` (written `raw`) lies inside the build context once
    /// every symlink and `..` in it is resolved; a source that is itself a symlink is judged by
    /// its target.
    func confine(raw: String, absolute: String, what: String, at here: SourceLocation) throws {
        let resolved = StackPaths.resolved(absolute)
        guard !SourceTree.isInside(resolved, root: context) else { return }
        let widen = contextLocation.map { "widen `context:` (\($0)) to a folder that holds it" }
            ?? "set `context:` to a folder that holds it"
        var info = stat()
        if lstat(absolute, &info) == 0, info.st_mode & S_IFMT == S_IFLNK,
           SourceTree.isInside(StackPaths.resolved(StackPaths.parent(of: absolute)), root: context) {
            throw StackFileError(location: here,
                                 message: "\(what) '\(raw)' is a symlink to \(resolved), outside the build context \(context)",
                                 hint: "copy what it points to inside, or \(widen)")
        }
        let shown = resolved == absolute ? "" : " (it resolves to \(resolved))"
        throw StackFileError(location: here, message: "\(what) '\(raw)' is outside the build context \(context)\(shown)",
                             hint: "move it inside, or \(widen)")
    }

    /// The path of a git source that is a repository on this machine, or nil for a remote one.
    ///
    /// Git's own rule: `file://PATH` is local; so is anything without `://` whose first ':' (if
    /// any) comes after a '/'; `host:path` and `user@host:path` are ssh.
    static func localGitPath(_ url: String) -> String? {
        if url.hasPrefix("file://") { return String(url.dropFirst("file://".count)) }
        if url.contains("://") { return nil }
        guard let colon = url.firstIndex(of: ":") else { return url }
        guard let slash = url.firstIndex(of: "/"), slash < colon else { return nil }
        return url
    }

    /// Two images tagged alike would overwrite each other in the store (the second build wins
    /// silently), so a tag, once normalised (`hello` is `docker.io/library/hello:latest`), may
    /// belong to one image only.
    func validateUniqueTags(_ images: [ImageSpec]) throws {
        var owners: [ImageReference: (image: String, location: SourceLocation, isDefault: Bool)] = [:]
        for image in images {
            for (index, tag) in image.tags.enumerated() {
                let isDefault = index >= image.tagLocations.count
                let here = isDefault ? image.location : image.tagLocations[index]
                if let first = owners[tag], first.image != image.name {
                    let which = isDefault ? "the default tag '\(tag.familiar)' of image '\(image.name)'" : "tag '\(tag.familiar)' of image '\(image.name)'"
                    let other = first.isDefault ? "the default tag of image '\(first.image)'" : "a tag of image '\(first.image)'"
                    throw StackFileError(location: here,
                                         message: "\(which) is also \(other) (at \(first.location)); both are \(tag)",
                                         hint: "the second image built would silently replace the first; give each image its own tags")
                }
                owners[tag] = owners[tag] ?? (image.name, here, isDefault)
            }
        }
    }
}

/// Where a mapping is in a stack file: the keys and list positions leading to it from the top.
///
/// The reader names a mapping in its errors ("in image 'app'", "in layer 2 of image 'app'",
/// "in aws.registry"); ``context`` gives that name from the path alone, so a problem found
/// before the tree is read (a repeated key, from libyaml's events) is named as the reader names
/// the same mapping.
struct YAMLKeyPath: Hashable, CustomStringConvertible {
    /// One step: a mapping key, or a position in a list (0-based).
    enum Component: Hashable, CustomStringConvertible {
        case key(String)
        case index(Int)

        /// The key, or `[N]`.
        var description: String {
            switch self {
            case let .key(key): key
            case let .index(index): "[\(index)]"
            }
        }
    }

    /// The steps from the top level.
    var components: [Component] = []

    /// The path one step further down.
    func appending(_ component: Component) -> YAMLKeyPath {
        YAMLKeyPath(components: components + [component])
    }

    /// The path with `<<` steps removed: a merged mapping's keys belong to the mapping that
    /// merges them (`<<: *defaults` and `<<: [*a, *b]`).
    var merged: YAMLKeyPath {
        var out: [Component] = []
        var skipIndex = false
        for component in components {
            if skipIndex, case .index = component {
                skipIndex = false
                continue
            }
            skipIndex = false
            if component == .key("<<") {
                skipIndex = true
                continue
            }
            out.append(component)
        }
        return YAMLKeyPath(components: out)
    }

    /// `aws.source_credentials[1].server_type`, as users read settings paths.
    var description: String {
        var text = ""
        for component in components {
            switch component {
            case let .key(key): text += text.isEmpty ? key : ".\(key)"
            case let .index(index): text += "[\(index)]"
            }
        }
        return text
    }

    /// The words the reader uses for the mapping at this path: "at the top level", "in images",
    /// "in image 'app'", "in config", "in the build of package 'p'", "in ci", "in aws.registry"…
    var context: String {
        let path = merged
        let steps = path.components
        func key(_ i: Int) -> String? {
            guard i < steps.count, case let .key(k) = steps[i] else { return nil }
            return k
        }
        func index(_ i: Int) -> Int? {
            guard i < steps.count, case let .index(n) = steps[i] else { return nil }
            return n
        }
        guard let top = key(0) else { return steps.isEmpty ? "at the top level" : "in \(path)" }
        let count = steps.count
        switch top {
        case "images":
            guard count > 1, let image = key(1) else { return count == 1 ? "in images" : "in \(path)" }
            if count == 2 { return "in image '\(image)'" }
            switch (key(2), count) {
            case ("layers", 4) where index(3) != nil: return "in layer \(index(3)! + 1) of image '\(image)'"
            case ("config", 3): return "in config"
            case ("config", 4) where key(3) == "env": return "in env"
            case ("config", 4) where key(3) == "labels": return "in labels"
            case ("annotations", 3): return "in annotations"
            case ("test", 3): return "in the test of image '\(image)'"
            default: return "in \(path)"
            }
        case "packages":
            guard count > 1, let package = key(1) else { return count == 1 ? "in packages" : "in \(path)" }
            if count == 2 { return "in package '\(package)'" }
            switch (key(2), count) {
            case ("source", 3): return "in the source of package '\(package)'"
            case ("build", 3): return "in the build of package '\(package)'"
            case ("build", 4) where key(3) == "swift": return "in the swift build of package '\(package)'"
            case ("build", 4) where key(3) == "spack": return "in the spack build of package '\(package)'"
            case ("build", 5) where key(3) == "files" && index(4) != nil:
                return "in file \(index(4)! + 1) of package '\(package)'"
            default: return "in \(path)"
            }
        default:
            // bases, ci, aws.* and anything else (an `x-` anchor's mapping): the dotted path.
            return "in \(path)"
        }
    }
}

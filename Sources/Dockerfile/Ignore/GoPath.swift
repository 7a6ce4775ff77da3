/// Go's `path/filepath.Clean` for slash-separated paths: one slash between elements, no `.`
/// elements, each `..` removing the element before it (and dropped at the root), no trailing
/// slash; the empty result is `.`.
enum GoPath {
    static func clean(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let rooted = path.hasPrefix("/")
        var elements: [Substring] = []
        for element in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch element {
            case ".": continue
            case "..":
                if let last = elements.last, last != ".." {
                    elements.removeLast()
                } else if !rooted {
                    elements.append(element)
                }
            default: elements.append(element)
            }
        }
        let joined = elements.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

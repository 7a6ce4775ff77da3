/// COPY and ADD.
extension InstructionParser {
    mutating func parseCopy(_ context: Context) throws(DockerfileError) -> CopyInstruction {
        var flags = InstructionFlags(instruction: "COPY", [("from", .string), ("chown", .string), ("chmod", .string), ("link", .bool),
                                                           ("parents", .bool), ("exclude", .list)])
        try flags.parse(context.flags)
        let (sources, destination) = try sourcesAndDestination(context)
        if let from = flags.nonEmpty("from") {
            let plain = try? ShellLexer(escape: "\\").expand(from, lookup: { _ in nil }).text
            if plain != from { throw .variableNotAllowed(flag: "COPY --from", value: from, at: flags.location("from", default: context.location)) }
        }
        return CopyInstruction(sources: sources, destination: destination, from: flags.nonEmpty("from"), chown: flags.nonEmpty("chown"),
                               chmod: flags.nonEmpty("chmod"), link: flags.bool("link") ?? false, parents: flags.bool("parents") ?? false,
                               excludes: flags.list("exclude"))
    }

    mutating func parseAdd(_ context: Context) throws(DockerfileError) -> AddInstruction {
        var flags = InstructionFlags(instruction: "ADD", [("checksum", .string), ("chown", .string), ("chmod", .string),
                                                          ("keep-git-dir", .bool), ("link", .bool), ("unpack", .bool), ("exclude", .list)])
        try flags.parse(context.flags)
        let (sources, destination) = try sourcesAndDestination(context)
        return AddInstruction(sources: sources, destination: destination, checksum: flags.nonEmpty("checksum"), chown: flags.nonEmpty("chown"),
                              chmod: flags.nonEmpty("chmod"), keepGitDir: flags.bool("keep-git-dir"), link: flags.bool("link") ?? false,
                              unpack: flags.bool("unpack"), excludes: flags.list("exclude"))
    }

    /// The words of COPY/ADD (JSON array or whitespace-separated): sources, then the
    /// destination. A source written as a here-document marker takes that here-document.
    private mutating func sourcesAndDestination(_ context: Context) throws(DockerfileError) -> ([FileSource], String) {
        let (words, _) = try listOrJSON(context)
        guard words.count >= 2, let destination = words.last else {
            throw .wrongArgumentCount(instruction: context.name, expected: "a source and a destination", at: context.location)
        }
        if HeredocWord.parse(destination.text) != nil {
            throw .heredocNotAllowed(instruction: context.name, role: "its destination", at: destination.location)
        }
        var sources: [FileSource] = []
        for word in words.dropLast() {
            if let marker = HeredocWord.parse(word.text) {
                var heredoc = context.heredocs.last { $0.name == marker.name }
                    ?? Heredoc(name: marker.name, rawContent: "", expands: marker.expands, stripsLeadingTabs: marker.stripsTabs)
                heredoc.stripsLeadingTabs = marker.stripsTabs
                sources.append(.inline(heredoc))
            } else {
                sources.append(.path(word.text))
            }
        }
        return (sources, destination.text)
    }
}

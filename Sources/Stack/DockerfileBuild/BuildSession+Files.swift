#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import OCI
import Runtime
import Support

/// Where a COPY or ADD takes its files from.
enum CopyOrigin {
    case context
    case stage(Int)
    case image(String)
}

extension BuildSession {
    func origin(_ from: String?) -> CopyOrigin {
        guard let from else { return .context }
        if let number = Int(from) { return .stage(number) }
        if let index = plan.dockerfile.stageIndex(named: from) { return .stage(index) }
        return .image(from)
    }

    /// `--chmod` as an octal mode (nil when not given).
    func mode(_ text: String?, instruction: Instruction) throws -> UInt32? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = UInt32(text, radix: 8), value <= 0o7777 else {
            throw DockerfileBuildError.invalidValue(file: file, location: instruction.location, instruction: instruction.keyword.rawValue,
                                                    reason: "--chmod=\(text) is not an octal mode; write it like --chmod=755 or --chmod=0644")
        }
        return value
    }

    /// The root a COPY or ADD from `origin` reads, opened (a stage's root is a read-only view,
    /// closed by the caller).
    static func openRoot(_ origin: CopyOrigin, context: SourceRoot, states: [Int: StageState], plan: BuildPlan,
                         bases: [String: ImageAssembler.ResolvedBase], builder: DockerfileBuilder) throws -> (SourceRoot, MergedRoot?) {
        switch origin {
        case .context:
            return (context, nil)
        case let .stage(index):
            guard let source = states[index] else { throw OCIError.archive(path: "stage \(index)", reason: "it was not built before it is used") }
            let view = try MergedRoot(lowers: try builder.lowers(layers: source.layers, diffIDs: source.diffIDs, platform: source.platform),
                                      scratchDirectory: builder.scratchDirectory)
            return (SourceRoot(path: view.path, ignore: nil, keepsOwners: true, label: "stage \(plan.stages[index].displayName)"), view)
        case let .image(reference):
            guard let base = bases[reference], let config = base.config else {
                throw OCIError.archive(path: reference, reason: "the image was not prepared")
            }
            let view = try MergedRoot(lowers: try builder.lowers(layers: base.layers, diffIDs: config.rootfs.diff_ids, platform: config.platform),
                                      scratchDirectory: builder.scratchDirectory)
            return (SourceRoot(path: view.path, ignore: nil, keepsOwners: true, label: "image \(reference)"), view)
        }
    }

    /// What the cache key says of a COPY/ADD's origin: the content digest of the context files
    /// it takes, or the chain of the stage or image it takes them from.
    func originKey(_ origin: CopyOrigin, sources: [DockerfileSource], excludes: DockerIgnore?, instruction: Instruction) throws -> String {
        switch origin {
        case .context:
            var selected: [SelectedSource] = []
            for case let .path(path) in sources where !Self.isURL(path) {
                selected += try CopySources.select(path, in: context, instruction: instruction.keyword.rawValue, at: instruction.location, file: file)
            }
            return "context " + (try CopySources.digest(of: selected, in: context, excludes: excludes)).description
        case let .stage(index):
            return "stage " + (states[index]?.chain ?? "?")
        case let .image(reference):
            return "image " + (bases[reference]?.manifestDigest?.description ?? reference)
        }
    }

    static func isURL(_ path: String) -> Bool {
        path.hasPrefix("http://") || path.hasPrefix("https://")
    }

    mutating func copy(_ copy: CopyInstruction, instruction: Instruction, to state: inout StageState, stage: String, index: Int) async throws {
        let origin = origin(copy.from)
        let excludes = try excludeRules(copy.excludes, instruction: instruction)
        let key = ["COPY", "\(instruction.kind)", "workdir \(state.workdir)",
                   try originKey(origin, sources: copy.sources, excludes: excludes, instruction: instruction)]
        let copier = FileCopier(file: file, instruction: instruction, destination: copy.destination, workdir: state.workdir,
                                chown: copy.chown, chmod: try mode(copy.chmod, instruction: instruction), parents: copy.parents,
                                excludes: excludes, unpackArchives: false, keepOwners: copy.from != nil)
        let (context, states, plan, bases, builder) = (self.context, self.states, self.plan, self.bases, self.builder)
        try await changeStep(&state, stage: stage, index: index, key: key) { view, changes in
            let (root, opened) = try Self.openRoot(origin, context: context, states: states, plan: plan, bases: bases, builder: builder)
            defer { opened?.close() }
            try copier.copy(copy.sources, from: root, into: changes, view: view, downloads: [:])
        }
    }

    mutating func add(_ add: AddInstruction, instruction: Instruction, to state: inout StageState, stage: String, index: Int) async throws {
        let excludes = try excludeRules(add.excludes, instruction: instruction)
        var downloads: [String: String] = [:]
        var urlKeys: [String] = []
        var scratch: String?
        defer { if let scratch { try? FileIO.removeTree(scratch) } }
        let hasURL = add.sources.contains { if case let .path(path) = $0 { return Self.isURL(path) } else { return false } }
        let fetchURL = hasURL ? try urlFetcher(instruction) : nil
        for case let .path(path) in add.sources {
            if path.hasPrefix("git@") || path.hasSuffix(".git") || path.contains(".git#") {
                throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "ADD of a git repository (\(path))",
                                                       hint: "clone it into the build context and COPY it")
            }
            guard Self.isURL(path) else { continue }
            if let checksum = add.checksum {
                // The checksum pins the content: a cached step needs no download.
                urlKeys.append("url \(path) \(checksum)")
                continue
            }
            guard let fetchURL else { continue }
            let directory = try scratch ?? builder.makeScratch("download")
            scratch = directory
            let target = directory + "/\(downloads.count)"
            try await Self.download(path, to: target, fetch: fetchURL, checksum: nil, file: file, instruction: instruction)
            downloads[path] = target
            let hashing = HashingSource(try Support.FileSource(path: target))
            try hashing.drain()
            urlKeys.append("url \(path) \(hashing.digest)")
        }
        let key = ["ADD", "\(instruction.kind)", "workdir \(state.workdir)",
                   try originKey(.context, sources: add.sources, excludes: excludes, instruction: instruction)] + urlKeys
        let (context, builder, file) = (self.context, self.builder, self.file)
        let copier = FileCopier(file: file, instruction: instruction, destination: add.destination, workdir: state.workdir,
                                chown: add.chown, chmod: try mode(add.chmod, instruction: instruction), parents: false,
                                excludes: excludes, unpackArchives: add.unpack ?? true, keepOwners: false)
        try await changeStep(&state, stage: stage, index: index, key: key) { view, changes in
            // URLs pinned by --checksum are fetched only now that the step is not cached.
            var fetched = downloads
            let directory = try builder.makeScratch("download")
            defer { try? FileIO.removeTree(directory) }
            for case let .path(path) in add.sources where Self.isURL(path) && fetched[path] == nil {
                guard let fetchURL else { continue }
                let target = directory + "/\(fetched.count)"
                try await Self.download(path, to: target, fetch: fetchURL, checksum: add.checksum, file: file, instruction: instruction)
                fetched[path] = target
            }
            try copier.copy(add.sources, from: context, into: changes, view: view, downloads: fetched)
        }
    }

    /// Downloads `url` and checks `checksum` (`sha256:HEX`) when given.
    static func download(_ url: String, to target: String, fetch: URLFetcher, checksum: String?, file: String, instruction: Instruction) async throws {
        do {
            try await fetch(url, target)
        } catch {
            throw DockerfileBuildError.step(file: file, location: instruction.location, instruction: "ADD", reason: "cannot download \(url): \(error)")
        }
        guard let checksum else { return }
        guard let expected = try? Digest(parsing: checksum) else {
            throw DockerfileBuildError.invalidValue(file: file, location: instruction.location, instruction: "ADD",
                                                    reason: "--checksum=\(checksum) is not a digest; write --checksum=sha256:HEX")
        }
        var digester = Digester(algorithm: expected.algorithm)
        let source = try Support.FileSource(path: target)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            digester.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        let actual = digester.finalize()
        guard actual == expected else {
            throw DockerfileBuildError.step(file: file, location: instruction.location, instruction: "ADD",
                                            reason: "\(url) does not match --checksum: expected \(expected), got \(actual); check the URL, or update the checksum if the file changed on purpose")
        }
    }

    /// The downloader ADD's URLs need, or the error that names the way around it.
    func urlFetcher(_ instruction: Instruction) throws -> URLFetcher {
        guard let fetchURL = builder.fetchURL else {
            throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "ADD of a URL here",
                                                   hint: "download the file into the build context and COPY it")
        }
        return fetchURL
    }

    func excludeRules(_ patterns: [String], instruction: Instruction) throws -> DockerIgnore? {
        guard !patterns.isEmpty else { return nil }
        do {
            return try DockerIgnore(patterns: patterns)
        } catch {
            throw DockerfileBuildError.invalidValue(file: file, location: instruction.location, instruction: instruction.keyword.rawValue,
                                                    reason: "--exclude: \(error.message)")
        }
    }
}

/// Copies the sources of one COPY or ADD into a change set, with docker's rules: a directory's
/// contents go into the destination; a destination ending in `/`, several sources, a wildcard
/// or an existing directory make the destination a directory; a relative destination is under
/// WORKDIR; new files and directories are root's unless `--chown` names another owner (a lone
/// user is also the group); `--chmod` sets every copied entry's mode.
struct FileCopier {
    let file: String
    let instruction: Instruction
    let destination: String
    let workdir: String
    let chown: String?
    let chmod: UInt32?
    let parents: Bool
    let excludes: DockerIgnore?
    let unpackArchives: Bool
    let keepOwners: Bool
    /// The mode of a downloaded file without `--chmod` (docker's).
    static let urlMode: UInt32 = 0o600

    private var name: String { instruction.keyword.rawValue }

    func copy(_ sources: [DockerfileSource], from root: SourceRoot, into changes: ChangeSet, view: MergedRoot, downloads: [String: String]) throws {
        guard !sources.isEmpty else { return }
        let target = BuildSession.absolute(destination, in: workdir)
        let owner = try resolveOwner(view)
        let newOwner = owner ?? (0, 0)
        var selections: [(DockerfileSource, [SelectedSource])] = []
        var wildcard = false
        for source in sources {
            switch source {
            case let .path(path) where BuildSession.isURL(path):
                selections.append((source, []))
            case let .path(path):
                wildcard = wildcard || CopySources.hasWildcards(path)
                selections.append((source, try CopySources.select(path, in: root, instruction: name, at: instruction.location, file: file)))
            case .inline:
                selections.append((source, []))
            }
        }
        let count = selections.reduce(0) { $0 + max(1, $1.1.count) }
        let intoDirectory = destination.hasSuffix("/") || destination == "." || destination.hasSuffix("/.") || count > 1 || wildcard
            || view.directory(target) != nil
        if intoDirectory { try changes.makeDirectory(target, mode: 0o755, owner: newOwner) }
        func place(_ name: String) -> String { intoDirectory ? (target == "/" ? "" : target) + "/" + name : target }

        for (source, selected) in selections {
            switch source {
            case let .inline(heredoc):
                try changes.writeFile(Data(heredoc.content.utf8), to: place(heredoc.name), mode: chmod ?? 0o644, owner: newOwner)
            case let .path(path) where BuildSession.isURL(path):
                guard let local = downloads[path] else { continue }
                let base = URL(string: path)?.lastPathComponent ?? "download"
                let imagePath = destination.hasSuffix("/") || intoDirectory ? place(base.isEmpty || base == "/" ? "download" : base) : target
                try changes.copyFile(local, to: imagePath, mode: chmod ?? Self.urlMode, owner: newOwner, parentOwner: newOwner)
            case .path:
                for item in selected {
                    try copy(item, from: root, into: changes, target: parents ? (target == "/" ? "" : target) + item.pathInRoot : nil,
                             place: place, owner: owner)
                }
            }
        }
    }

    private func copy(_ item: SelectedSource, from root: SourceRoot, into changes: ChangeSet, target explicit: String?,
                      place: (String) -> String, owner: (uid: UInt32, gid: UInt32)?) throws {
        var st = stat()
        guard stat(item.hostPath, &st) == 0 else { throw OCIError.io(path: item.hostPath, operation: "stat", errno: errno) }
        func ownerOf(_ info: stat) -> (uid: UInt32, gid: UInt32) {
            owner ?? (keepOwners ? (info.st_uid, info.st_gid) : (0, 0))
        }
        if item.isDirectory {
            // A directory's contents go into the destination, whatever its form.
            let directory = explicit ?? BuildSession.absolute(destination, in: workdir)
            try changes.makeDirectory(directory, mode: chmod ?? (UInt32(st.st_mode) & 0o7777), owner: ownerOf(st))
            try CopySources.walk(item, in: root, excludes: excludes) { entry in
                try changes.copy(entry, to: (directory == "/" ? "" : directory) + "/" + entry.relative, mode: chmod, owner: ownerOf(entry.info))
            }
            return
        }
        let imagePath = explicit ?? place(item.name)
        if unpackArchives, let compression = try archiveCompression(item.hostPath) {
            // ADD of a local archive: its entries land in the destination directory.
            let directory = explicit ?? BuildSession.absolute(destination, in: workdir)
            try changes.makeDirectory(directory, mode: 0o755, owner: owner ?? (0, 0))
            let extractor = try SafeExtractor(root: changes.upper + (directory == "/" ? "" : directory),
                                              policy: ExtractionPolicy(parentLinks: .resolveInRoot, dotDot: .resolveInside, whiteouts: .literal,
                                                                       devices: .skip, owners: true, replacesDirectories: true))
            do {
                try extractor.apply(try Decompressor.source(compression, try Support.FileSource(path: item.hostPath)), name: item.pathInRoot)
            } catch {
                throw DockerfileBuildError.copySource(file: file, location: instruction.location, instruction: name, source: item.pathInRoot,
                                                      reason: "cannot unpack it: \(error)")
            }
            return
        }
        try changes.copyFile(item.hostPath, to: imagePath, mode: chmod ?? (UInt32(st.st_mode) & 0o7777), owner: ownerOf(st),
                             parentOwner: owner ?? (0, 0))
    }

    /// The compression of a tar archive ADD unpacks (nil: not an archive, copied as it is).
    /// Archives compressed otherwise than gzip or zstd are refused by name.
    private func archiveCompression(_ path: String) throws -> Compression? {
        guard let fd = try? FileIO.open(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 512)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 512) }
        guard n > 0 else { return nil }
        let prefix = Array(head[0..<n])
        if prefix.count >= 262, Array(prefix[257..<262]) == Array("ustar".utf8) { return Compression.none }
        switch Compression.sniff(prefix) {
        case .gzip: return .gzip
        case .zstd: return .zstd
        case .none: break
        }
        if prefix.starts(with: [0x42, 0x5A, 0x68]) || prefix.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) {
            throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "ADD of a bzip2 or xz archive (\(path))",
                                                   hint: "recompress it as .tar.gz or .tar.zst, or use ADD --unpack=false and unpack it in a RUN")
        }
        return nil
    }

    /// `--chown` resolved in the stage's root (a lone user or uid is also the group, as docker does).
    private func resolveOwner(_ view: MergedRoot) throws -> (uid: UInt32, gid: UInt32)? {
        guard let chown, !chown.isEmpty else { return nil }
        do {
            let resolved = try view.owner(chown)
            return chown.contains(":") ? resolved : (resolved.uid, resolved.uid)
        } catch {
            throw DockerfileBuildError.invalidValue(file: file, location: instruction.location, instruction: name,
                                                    reason: "--chown=\(chown): \(error)")
        }
    }
}

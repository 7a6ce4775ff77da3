#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// The files a dynamically linked ELF program needs at run time, found as the dynamic loader
/// would find them on this machine, without running anything (unlike `ldd`, which runs the
/// program's own loader and so is unsafe on untrusted binaries).
///
/// Starting from the executable, each DT_NEEDED name is looked up breadth first, as ld.so
/// loads them: in the DT_RPATH of the object that needs it and of the objects that loaded it
/// (only for objects without DT_RUNPATH), then its DT_RUNPATH, then the directories of
/// /etc/ld.so.conf (and the files it includes), then the system directories for the
/// executable's machine (/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64,
/// /lib, /usr/lib on x86_64). `LD_LIBRARY_PATH` is ignored, so the result depends only on the
/// files. A candidate is used only if it is a 64-bit shared library for the executable's machine.
/// A name already loaded (by the name it was needed by, or its DT_SONAME) is not looked up
/// again; the interpreter counts as loaded, so `libc.so.6`'s need for `ld-linux-x86-64.so.2`
/// is met by it.
///
/// `$ORIGIN` in a search directory stands for the directory of the object that has it. On this
/// machine that is where the object is; in the image it is where the object will be, so a
/// library found through the executable's `$ORIGIN` is placed beside the executable's
/// destination. Every other library keeps its path.
public struct ELFDependencies: Sendable, Hashable {
    /// A shared library in the closure.
    public struct Library: Sendable, Hashable {
        /// The name it was looked up by (its DT_NEEDED entry), such as `libc.so.6`.
        public var name: String
        /// Where the dynamic loader will look for it inside the image: the path it was found
        /// at on this machine, or for `$ORIGIN` directories, that path seen from the image.
        public var path: String
        /// The file on this machine that supplies its content, as found (a symlink here is
        /// followed when the layer is written, so the image gets a regular file at ``path``).
        public var hostPath: String
        /// The host path of the object that first needed it.
        public var neededBy: String

        /// Creates a library entry.
        public init(name: String, path: String, hostPath: String, neededBy: String) {
            self.name = name
            self.path = path
            self.hostPath = hostPath
            self.neededBy = neededBy
        }
    }

    /// The executable's absolute path on this machine.
    public var executable: String
    /// Where the executable goes in the image.
    public var destination: String
    /// The program interpreter (PT_INTERP), such as `/lib64/ld-linux-x86-64.so.2`; nil for a
    /// static program. It is read from the same path on this machine.
    public var interpreter: String?
    /// The shared libraries needed, directly or not, sorted by ``Library/path``; empty for a
    /// static program.
    public var libraries: [Library]
    /// The executable's architecture in OCI terms (`amd64`, `arm64`, `riscv64`); nil for other
    /// machines.
    public var architecture: String?

    /// Works out what the ELF program at `executable` needs.
    ///
    /// - Parameters:
    ///   - executable: The program's absolute path on this machine.
    ///   - destination: Where it goes in the image (decides what `$ORIGIN` means there); its
    ///     own path when nil.
    ///   - ldSoConf: The loader configuration to read search directories from.
    /// - Throws: ``ELFDependencyError``.
    public static func resolve(executable: String, destination: String? = nil,
                               ldSoConf: String = "/etc/ld.so.conf") throws -> ELFDependencies {
        var resolver = try Resolver(executable: executable, destination: destination ?? executable, ldSoConf: ldSoConf)
        return try resolver.run()
    }

    /// The layer sources that place the executable (with `mode`, or its own when nil), its
    /// interpreter and its libraries in the image. The executable comes last, so it wins if a
    /// library would land on its destination.
    ///
    /// `confinement` applies to the program only (see ``LayerSource/confinement``): the
    /// interpreter and libraries come from the host's system directories by design.
    public func layerSources(mode: UInt32? = nil, confinement: String? = nil) -> [LayerSource] {
        var sources: [LayerSource] = []
        if let interpreter {
            sources.append(LayerSource(source: interpreter, destination: interpreter, followSymlinks: true))
        }
        for library in libraries where library.path != interpreter && library.path != destination {
            sources.append(LayerSource(source: library.hostPath, destination: library.path, followSymlinks: true))
        }
        sources.append(LayerSource(source: executable, destination: destination, mode: mode, confinement: confinement))
        return sources
    }

    /// The multiarch directory name Debian and Ubuntu use for `machine` (`e_machine`).
    static func multiarchTriple(machine: UInt16) -> String? {
        switch machine {
        case 62: return "x86_64-linux-gnu"
        case 183: return "aarch64-linux-gnu"
        case 243: return "riscv64-linux-gnu"
        default: return nil
        }
    }

    /// The OCI architecture name for `machine`.
    static func architecture(machine: UInt16) -> String? {
        switch machine {
        case 62: return "amd64"
        case 183: return "arm64"
        case 243: return "riscv64"
        default: return nil
        }
    }

    /// The machine's usual name, for messages.
    static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 62: return "x86_64"
        case 183: return "aarch64"
        case 243: return "riscv64"
        default: return "ELF machine \(machine)"
        }
    }

    /// The directories the loader searches after the object's own paths, for `machine`.
    static func systemDirectories(machine: UInt16) -> [String] {
        let generic = ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
        guard let triple = multiarchTriple(machine: machine) else { return generic }
        return ["/lib/\(triple)", "/usr/lib/\(triple)"] + generic
    }

    /// The directories listed in the ld.so.conf at `path`, following `include` lines (globs,
    /// relative to the including file's directory), in order, without repeats.
    static func configuredDirectories(_ path: String) -> [String] {
        var directories: [String] = []
        var visited: Set<String> = []
        func read(_ file: String, depth: Int) {
            guard depth < 10, visited.insert(file).inserted,
                  let text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
            for rawLine in text.split(whereSeparator: \.isNewline) {
                let line = rawLine.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let first = words.first else { continue }
                switch first {
                case "include":
                    for pattern in words.dropFirst() {
                        let absolute = pattern.hasPrefix("/") ? pattern : StackPaths.parent(of: file) + "/" + pattern
                        for match in glob(absolute) { read(match, depth: depth + 1) }
                    }
                case "hwcap":
                    continue
                default:
                    for word in words where word.hasPrefix("/") {
                        let directory = StackPaths.normalise(word)
                        if !directories.contains(directory) { directories.append(directory) }
                    }
                }
            }
        }
        read(path, depth: 0)
        return directories
    }

    /// The paths matching `pattern`, sorted; none when nothing matches.
    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { i in matches.gl_pathv[i].map { String(cString: $0) } }
    }
}

/// The breadth-first walk behind ``ELFDependencies/resolve(executable:destination:ldSoConf:)``.
private struct Resolver {
    /// A directory to search: where it is on this machine and where the loader sees it in the image.
    struct Directory: Hashable {
        var host: String
        var image: String
    }

    /// An object in the closure (the executable is the first).
    struct Object {
        var name: String
        var hostPath: String
        var imagePath: String
        var hostOrigin: String
        var imageOrigin: String
        var file: ELFFile
        var loader: Int?
    }

    let executable: String
    let destination: String
    let main: ELFFile
    let configured: [String]
    var objects: [Object] = []
    /// Names (DT_NEEDED names, sonames and paths) already loaded → the object that has them;
    /// -1 for the interpreter.
    var loaded: [String: Int] = [:]
    /// Image path → object, so a file reached by two names is walked once.
    var byImagePath: [String: Int] = [:]

    init(executable: String, destination: String, ldSoConf: String) throws {
        self.executable = executable
        self.destination = destination
        main = try ELFFile(path: executable)
        guard main.type == ELFFile.executableType || main.type == ELFFile.sharedType else {
            let kind: String
            switch main.type {
            case 1: kind = "a relocatable object (.o)"
            case 4: kind = "a core dump"
            default: kind = "an ELF file of type \(main.type)"
            }
            throw ELFDependencyError.unsupported(path: executable, reason: "\(kind), not a program")
        }
        configured = ELFDependencies.configuredDirectories(ldSoConf)
        // ld.so takes the executable's $ORIGIN from /proc/self/exe, with symlinks resolved.
        var hostOrigin = StackPaths.parent(of: executable)
        if let real = realpath(executable, nil) {
            hostOrigin = StackPaths.parent(of: String(cString: real))
            free(real)
        }
        objects = [Object(name: "", hostPath: executable, imagePath: destination, hostOrigin: hostOrigin,
                          imageOrigin: StackPaths.parent(of: destination), file: main, loader: nil)]
    }

    mutating func run() throws -> ELFDependencies {
        if let interpreter = main.interpreter {
            let file = try checkInterpreter(interpreter)
            loaded[interpreter] = -1
            loaded[file.soname ?? (interpreter as NSString).lastPathComponent] = -1
        }
        var next = 0
        while next < objects.count {
            for name in objects[next].file.needed where loaded[name] == nil {
                let (hostPath, imagePath, file) = try find(name, for: next)
                if let known = byImagePath[imagePath] {
                    loaded[name] = known
                    continue
                }
                let index = objects.count
                objects.append(Object(name: name, hostPath: hostPath, imagePath: imagePath,
                                      hostOrigin: Self.directory(of: hostPath), imageOrigin: StackPaths.parent(of: imagePath),
                                      file: file, loader: next))
                byImagePath[imagePath] = index
                loaded[name] = index
                loaded[imagePath] = index
                if let soname = file.soname, loaded[soname] == nil { loaded[soname] = index }
            }
            next += 1
        }
        let libraries = objects.dropFirst().map { object in
            ELFDependencies.Library(name: object.name, path: object.imagePath, hostPath: object.hostPath,
                                    neededBy: objects[object.loader ?? 0].hostPath)
        }
        return ELFDependencies(executable: executable, destination: destination, interpreter: main.interpreter,
                               libraries: libraries.sorted { $0.path < $1.path },
                               architecture: ELFDependencies.architecture(machine: main.machine))
    }

    /// The interpreter, which must be a 64-bit ELF file for the executable's machine.
    private func checkInterpreter(_ path: String) throws -> ELFFile {
        guard path.hasPrefix("/") else {
            throw ELFDependencyError.interpreterNotFound(interpreter: path, executable: executable,
                                                         reason: "is a relative path (resolved against the working directory at run time)")
        }
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw ELFDependencyError.interpreterNotFound(interpreter: path, executable: executable, reason: "is not on this machine")
        }
        let file: ELFFile
        do {
            file = try ELFFile(path: path)
        } catch let error as ELFDependencyError {
            throw ELFDependencyError.interpreterNotFound(interpreter: path, executable: executable,
                                                         reason: "is unusable here (\(error.shortReason))")
        }
        guard file.machine == main.machine else {
            throw ELFDependencyError.interpreterNotFound(
                interpreter: path, executable: executable,
                reason: "is for \(ELFDependencies.machineName(file.machine)) on this machine, but the program is for \(ELFDependencies.machineName(main.machine))")
        }
        return file
    }

    /// Looks `name` up for object `index` as ld.so would.
    private func find(_ name: String, for index: Int) throws -> (host: String, image: String, file: ELFFile) {
        let object = objects[index]
        var directories: [Directory] = []
        var skipped: [String] = []
        if name.contains("/") {
            // A path, not a name: used as it is (after $ORIGIN), never searched for.
            if let path = expand(name, origin: object), path.host.hasPrefix("/") {
                switch candidate(path.host) {
                case let .usable(file): return (path.host, StackPaths.normalise(path.image), file)
                case let .skipped(reason): skipped.append(reason)
                case .missing: break
                }
                directories = [Directory(host: StackPaths.parent(of: path.host), image: StackPaths.parent(of: path.image))]
            }
            throw ELFDependencyError.libraryNotFound(library: name, neededBy: object.hostPath,
                                                     searched: directories.map(\.host), skipped: skipped)
        }
        directories = searchDirectories(for: index)
        for directory in directories {
            let host = directory.host + "/" + name
            switch candidate(host) {
            case let .usable(file): return (host, StackPaths.normalise(directory.image + "/" + name), file)
            case let .skipped(reason): skipped.append(reason)
            case .missing: continue
            }
        }
        throw ELFDependencyError.libraryNotFound(library: name, neededBy: object.hostPath,
                                                 searched: directories.map(\.host), skipped: skipped)
    }

    /// The directories to search for the needs of object `index`, in order, without repeats.
    private func searchDirectories(for index: Int) -> [Directory] {
        var result: [Directory] = []
        func add(_ directory: Directory) {
            if directory.host.hasPrefix("/"), directory.image.hasPrefix("/"), !result.contains(directory) {
                result.append(directory)
            }
        }
        let object = objects[index]
        if object.file.runpath == nil {
            // DT_RPATH of the object, then of the objects that loaded it, up to the executable.
            var current: Int? = index
            while let i = current {
                for entry in objects[i].file.rpath {
                    if let directory = expand(entry, origin: objects[i]) { add(directory) }
                }
                current = objects[i].loader
            }
        }
        for entry in object.file.runpath ?? [] {
            if let directory = expand(entry, origin: object) { add(directory) }
        }
        for path in configured + ELFDependencies.systemDirectories(machine: main.machine) {
            add(Directory(host: path, image: path))
        }
        return result
    }

    /// `entry` with `$ORIGIN`, `$LIB` and `$PLATFORM` (also as `${...}`) replaced, on this
    /// machine and in the image; nil for other `$` tokens, which ld.so would not understand either.
    private func expand(_ entry: String, origin object: Object) -> Directory? {
        guard entry.contains("$") else { return Directory(host: entry, image: entry) }
        let triple = ELFDependencies.multiarchTriple(machine: main.machine)
        var host = entry, image = entry
        for (token, hostValue, imageValue) in [
            ("ORIGIN", object.hostOrigin, object.imageOrigin),
            ("LIB", triple.map { "lib/\($0)" } ?? "lib", triple.map { "lib/\($0)" } ?? "lib"),
            ("PLATFORM", ELFDependencies.machineName(main.machine), ELFDependencies.machineName(main.machine)),
        ] {
            for spelling in ["${\(token)}", "$\(token)"] {
                host = host.replacingOccurrences(of: spelling, with: hostValue)
                image = image.replacingOccurrences(of: spelling, with: imageValue)
            }
        }
        return host.contains("$") ? nil : Directory(host: host, image: image)
    }

    enum Candidate {
        case usable(ELFFile)
        case skipped(String)
        case missing
    }

    /// Whether the file at `path` can satisfy a need of the executable.
    private func candidate(_ path: String) -> Candidate {
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        guard st.st_mode & S_IFMT == S_IFREG else { return .skipped("\(path) (not a regular file)") }
        do {
            let file = try ELFFile(path: path)
            guard file.machine == main.machine else {
                return .skipped("\(path) (for \(ELFDependencies.machineName(file.machine)))")
            }
            guard file.type == ELFFile.sharedType else { return .skipped("\(path) (not a shared library)") }
            return .usable(file)
        } catch let error as ELFDependencyError {
            return .skipped("\(path) (\(error.shortReason))")
        } catch {
            return .skipped("\(path) (\(error))")
        }
    }

    /// The directory part of `path` as written (no symlinks resolved, `..` kept), as ld.so
    /// takes `$ORIGIN` for a library from the path it opened.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension ELFDependencyError {
    /// A few words on what is wrong, for lists of skipped candidates.
    var shortReason: String {
        switch self {
        case .notELF: return "not an ELF file"
        case let .unsupported(_, reason): return reason
        case let .malformed(_, reason): return "damaged: \(reason)"
        case let .unreadable(_, code): return String(cString: strerror(code))
        case .interpreterNotFound, .libraryNotFound: return description
        }
    }
}

import Foundation
import StackshipTesting
import OCI
import Testing
@testable import Stack

// MARK: - Fixtures

#if arch(x86_64)
let hostTriple = "x86_64-linux-gnu"
let hostInterpreter = "/lib64/ld-linux-x86-64.so.2"
let otherPlatform = "linux/arm64"
#elseif arch(arm64)
let hostTriple = "aarch64-linux-gnu"
let hostInterpreter = "/lib/ld-linux-aarch64.so.1"
let otherPlatform = "linux/amd64"
#endif

/// A C compiler failure, with its output.
struct CompileFailed: Error, CustomStringConvertible {
    var description: String
}

extension StackDir {
    /// Compiles with `cc` in this directory; fails the test if cc is missing or fails.
    func cc(_ args: [String]) throws {
        let result = try runProgram("cc", args, cwd: path)
        guard result.status == 0 else {
            throw CompileFailed(description: "cc \(args.joined(separator: " ")) failed (\(result.status)); install gcc and libc6-dev: \(result.err)")
        }
    }

    /// Builds lib/libinner.so, lib/libgreet.so (which needs libinner.so, with no search path of
    /// its own) and bin/NAME, which needs libgreet.so and finds it through `$ORIGIN/../lib`,
    /// recorded as DT_RUNPATH or (with `runpath: false`) DT_RPATH.
    func buildGreeter(_ name: String, runpath: Bool) throws {
        try write("inner.c", "int inner(void) { return 42; }\n")
        try write("greet.c", "#include <stdio.h>\nint inner(void);\nvoid greet(void) { printf(\"hello from greet %d\\n\", inner()); }\n")
        try write("main.c", "void greet(void);\nint main(void) { greet(); return 0; }\n")
        try mkdir("lib")
        try mkdir("bin")
        try cc(["-shared", "-fPIC", "-o", "lib/libinner.so", "inner.c"])
        try cc(["-shared", "-fPIC", "-o", "lib/libgreet.so", "greet.c", "-Llib", "-linner"])
        try cc(["-o", "bin/\(name)", "main.c", "-Llib", "-lgreet", "-Wl,-rpath-link,lib", "-Wl,-rpath,$ORIGIN/../lib",
                runpath ? "-Wl,--enable-new-dtags" : "-Wl,--disable-new-dtags"])
    }

    /// Copies this machine's /usr/bin/ls to `ls` in this folder, for stack files to pack.
    func copyHostLS() throws {
        try FileManager.default.copyItem(atPath: "/usr/bin/ls", toPath: path + "/ls")
    }

    /// Builds a store, a stack file with `layers`, and the image `app` from it.
    func buildImage(layers: String, platform: String? = nil, store: String = "store") throws -> (BuiltImage, OCILayoutStore) {
        let stack = try parse("images:\n  app:\n\(platform.map { "    platform: \($0)\n" } ?? "")    layers:\n\(layers)")
        let store = try OCILayoutStore(root: path + "/" + store)
        let built = try ImageAssembler.build(try stack.image(named: "app"), stack: stack, store: store, options: AssemblyOptions())
        return (built, store)
    }
}

/// The names in a gzip layer blob, as `tar -tzf` lists them.
func layerNames(_ built: BuiltImage, in store: OCILayoutStore, layer: Int = 0) throws -> [String] {
    let listing = try runProgram("tar", ["-tzf", store.path(of: built.layers[layer].descriptor.digest)])
    #expect(listing.status == 0, "\(listing.err)")
    return listing.out.split(separator: "\n").map(String.init)
}

// MARK: - Reading ELF files

@Suite("executable layers: ELF dependencies")
struct ELFDependencyIntegrationTests {
    @Test func readsAProgramOnThisMachine() throws {
        let ls = try ELFFile(path: "/usr/bin/ls")
        #expect(ls.interpreter == hostInterpreter)
        #expect(ls.needed.contains("libc.so.6"))
        #expect(ls.type == ELFFile.executableType || ls.type == ELFFile.sharedType)

        let dependencies = try ELFDependencies.resolve(executable: "/usr/bin/ls", destination: "/usr/local/bin/ls")
        #expect(dependencies.interpreter == hostInterpreter)
        #expect(dependencies.architecture == Platform.host.architecture)
        let paths = dependencies.libraries.map(\.path)
        #expect(paths.contains("/lib/\(hostTriple)/libc.so.6"), "\(paths)")
        #expect(paths == paths.sorted() && Set(paths).count == paths.count)
        // libc.so.6's own need for the interpreter is met by the interpreter itself.
        #expect(!dependencies.libraries.contains { $0.name == (hostInterpreter as NSString).lastPathComponent })
        // Needs of needs are followed: ls → libselinux.so.1 → libpcre2-8.so.0 (on Debian).
        if let selinux = dependencies.libraries.first(where: { $0.name == "libselinux.so.1" }) {
            let pcre = dependencies.libraries.first { $0.name == "libpcre2-8.so.0" }
            #expect(pcre?.neededBy == selinux.hostPath)
        }
        let sources = dependencies.layerSources()
        #expect(sources.first?.destination == hostInterpreter)
        #expect(sources.last == LayerSource(source: "/usr/bin/ls", destination: "/usr/local/bin/ls"))
        #expect(sources.count == dependencies.libraries.count + 2)
    }

    @Test func resolvesThroughOriginInRunpath() throws {
        try withStackDir { dir in
            try dir.write("direct.c", "int inner(void);\nint main(void) { return inner() == 42 ? 0 : 1; }\n")
            try dir.mkdir("lib")
            try dir.mkdir("bin")
            try dir.write("inner.c", "int inner(void) { return 42; }\n")
            try dir.cc(["-shared", "-fPIC", "-o", "lib/libinner.so", "inner.c"])
            try dir.cc(["-o", "bin/direct", "direct.c", "-Llib", "-linner", "-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags"])

            let file = try ELFFile(path: dir.path + "/bin/direct")
            #expect(file.runpath == ["$ORIGIN/../lib"])
            #expect(file.rpath.isEmpty)
            let dependencies = try ELFDependencies.resolve(executable: dir.path + "/bin/direct", destination: "/app/bin/direct")
            let inner = try #require(dependencies.libraries.first { $0.name == "libinner.so" })
            #expect(inner.hostPath == dir.path + "/bin/../lib/libinner.so")
            // In the image $ORIGIN is the destination's directory.
            #expect(inner.path == "/app/lib/libinner.so")
            #expect(inner.neededBy == dir.path + "/bin/direct")
            #expect(dependencies.libraries.contains { $0.path == "/lib/\(hostTriple)/libc.so.6" })
        }
    }

    @Test func rpathReachesIndirectNeedsButRunpathDoesNot() throws {
        try withStackDir { dir in
            // DT_RPATH of the executable also serves libgreet.so's need for libinner.so ...
            try dir.buildGreeter("with-rpath", runpath: false)
            let program = dir.path + "/bin/with-rpath"
            #expect(try ELFFile(path: program).rpath == ["$ORIGIN/../lib"])
            #expect(try runProgram(program, []).out == "hello from greet 42\n")
            let dependencies = try ELFDependencies.resolve(executable: program, destination: "/opt/greet/bin/greet")
            let names = Dictionary(uniqueKeysWithValues: dependencies.libraries.map { ($0.name, $0.path) })
            #expect(names["libgreet.so"] == "/opt/greet/lib/libgreet.so")
            #expect(names["libinner.so"] == "/opt/greet/lib/libinner.so")

            // ... but DT_RUNPATH serves only the executable's own needs, as the loader agrees.
            try dir.buildGreeter("with-runpath", runpath: true)
            let other = dir.path + "/bin/with-runpath"
            #expect(try runProgram(other, []).status != 0)
            #expect {
                try ELFDependencies.resolve(executable: other)
            } throws: { error in
                guard case let .libraryNotFound(library, neededBy, searched, _)? = error as? ELFDependencyError else { return false }
                return library == "libinner.so" && neededBy == dir.path + "/bin/../lib/libgreet.so"
                    && searched.contains("/lib/\(hostTriple)") && !searched.contains(dir.path + "/bin/../lib")
            }
        }
    }

    @Test func missingLibraryNamesItTheNeederAndTheDirectories() throws {
        try withStackDir { dir in
            try dir.write("gone.c", "int gone(void) { return 1; }\n")
            try dir.write("main.c", "int gone(void);\nint main(void) { return gone(); }\n")
            try dir.mkdir("lib")
            try dir.cc(["-shared", "-fPIC", "-o", "lib/libgone.so", "gone.c"])
            try dir.cc(["-o", "prog", "main.c", "-Llib", "-lgone", "-Wl,-rpath,$ORIGIN/lib"])
            try FileManager.default.removeItem(atPath: dir.path + "/lib/libgone.so")

            let error = #expect(throws: ELFDependencyError.self) {
                try ELFDependencies.resolve(executable: dir.path + "/prog")
            }
            guard case let .libraryNotFound(library, neededBy, searched, skipped)? = error else {
                Issue.record("expected libraryNotFound, got \(String(describing: error))")
                return
            }
            #expect(library == "libgone.so")
            #expect(neededBy == dir.path + "/prog")
            #expect(searched.first == dir.path + "/lib")
            #expect(searched.contains("/usr/lib/\(hostTriple)") && searched.contains("/usr/lib"))
            #expect(skipped.isEmpty)
            let text = "\(error!)"
            #expect(text.contains("\(dir.path)/prog needs libgone.so"))
            #expect(text.contains("install the package that provides it"))
            #expect(text.contains("--static-swift-stdlib"))
        }
    }

    @Test func candidateThatIsNotALibraryIsPassedOver() throws {
        try withStackDir { dir in
            try dir.write("main.c", "int main(void) { return 0; }\n")
            try dir.write("lib/libc.so.6", "not a library at all")
            try dir.cc(["-o", "prog", "main.c", "-Wl,-rpath,$ORIGIN/lib"])
            // The fake libc.so.6 beside it is skipped; the real one is used.
            let dependencies = try ELFDependencies.resolve(executable: dir.path + "/prog")
            #expect(dependencies.libraries.first { $0.name == "libc.so.6" }?.path == "/lib/\(hostTriple)/libc.so.6")
        }
    }

    @Test func notAnELFFile() throws {
        try withStackDir { dir in
            let script = try dir.write("run.sh", "#!/bin/sh\necho hi\n", mode: 0o755)
            #expect(throws: ELFDependencyError.notELF(path: script)) { try ELFDependencies.resolve(executable: script) }
            #expect("\(ELFDependencyError.notELF(path: script))".contains("is not an ELF executable; use `source:` for ordinary files"))
            let empty = try dir.write("empty", "")
            #expect(throws: ELFDependencyError.notELF(path: empty)) { try ELFFile(path: empty) }
        }
    }

    @Test func unsupportedAndDamagedELFFiles() throws {
        try withStackDir { dir in
            func file(_ name: String, _ bytes: [UInt8]) throws -> String {
                let path = dir.path + "/" + name
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                return path
            }
            let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
            let elf32 = try file("elf32", magic + [1, 1, 1] + [UInt8](repeating: 0, count: 45))
            #expect(throws: ELFDependencyError.unsupported(path: elf32, reason: "a 32-bit ELF file")) { try ELFFile(path: elf32) }
            let bigEndian = try file("big", magic + [2, 2, 1] + [UInt8](repeating: 0, count: 57))
            #expect(throws: ELFDependencyError.unsupported(path: bigEndian, reason: "a big-endian ELF file")) { try ELFFile(path: bigEndian) }

            // A header whose program headers lie past the end of the file.
            var header = magic + [2, 1, 1] + [UInt8](repeating: 0, count: 57)
            header[16] = 2; header[18] = 62       // ET_EXEC, x86_64
            header[32] = 0xe8; header[33] = 0x03  // e_phoff = 1000
            header[54] = 56; header[56] = 1       // one program header of 56 bytes
            let damaged = try file("damaged", header)
            let error = #expect(throws: ELFDependencyError.self) { try ELFFile(path: damaged) }
            guard case let .malformed(path, reason)? = error else {
                Issue.record("expected malformed, got \(String(describing: error))")
                return
            }
            #expect(path == damaged && reason.contains("runs past the end of the file"))

            // An object file is ELF but not a program.
            try dir.write("obj.c", "int x(void) { return 0; }\n")
            try dir.cc(["-c", "-o", "obj.o", "obj.c"])
            #expect(throws: ELFDependencyError.unsupported(path: dir.path + "/obj.o", reason: "a relocatable object (.o), not a program")) {
                try ELFDependencies.resolve(executable: dir.path + "/obj.o")
            }
        }
    }

    @Test func staticProgramsNeedNothing() throws {
        try withStackDir { dir in
            try dir.write("main.c", "int main(void) { return 0; }\n")
            try dir.cc(["-static", "-o", "static", "main.c"])
            for program in [dir.path + "/static", "/usr/bin/busybox"] where FileManager.default.fileExists(atPath: program) {
                let dependencies = try ELFDependencies.resolve(executable: program, destination: "/bin/prog")
                #expect(dependencies.interpreter == nil, "\(program)")
                #expect(dependencies.libraries.isEmpty, "\(program)")
                #expect(dependencies.layerSources() == [LayerSource(source: program, destination: "/bin/prog")])
            }
        }
    }

    @Test func readsLdSoConfWithIncludes() throws {
        try withStackDir { dir in
            try dir.write("ld.so.conf", "# comment\ninclude conf.d/*.conf\n/opt/first\n\nhwcap 0 nosegneg\n/opt/last # trailing\n")
            try dir.write("conf.d/b.conf", "/opt/b\n/opt/first\n")
            try dir.write("conf.d/a.conf", "/opt/a/\ninclude \(dir.path)/ld.so.conf\n")
            try dir.write("conf.d/ignored.txt", "/opt/ignored\n")
            #expect(ELFDependencies.configuredDirectories(dir.path + "/ld.so.conf") == ["/opt/a", "/opt/b", "/opt/first", "/opt/last"])
            #expect(ELFDependencies.configuredDirectories(dir.path + "/missing.conf").isEmpty)
        }
    }

    @Test func systemDirectoriesFollowTheMachine() {
        #expect(ELFDependencies.systemDirectories(machine: 62) ==
                ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"])
        #expect(ELFDependencies.systemDirectories(machine: 183).prefix(2) == ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"])
    }
}

// MARK: - Building images

@Suite("executable layers: images")
struct ExecutableLayerBuildTests {
    @Test func layerHoldsTheProgramItsLibrariesAndInterpreterReproducibly() throws {
        try withStackDir { dir in
            // A copy inside the stack's folder: a program outside its build context is refused.
            try dir.copyHostLS()
            let layers = "      - executable: ls\n        destination: /usr/local/bin/ls\n        comment: listing\n"
            let (first, store) = try dir.buildImage(layers: layers)
            let names = try layerNames(first, in: store)
            let interpreter = String(hostInterpreter.dropFirst())
            let interpreterDirectory = String(interpreter.prefix { $0 != "/" }) + "/"
            for expected in ["usr/local/bin/ls", "lib/\(hostTriple)/libc.so.6", interpreter, "lib/", interpreterDirectory, "usr/"] {
                #expect(names.contains(expected), "\(expected) not in \(names)")
            }
            // Every entry (directories shared by /lib and /lib64 sources included) appears once.
            #expect(Set(names).count == names.count, "\(names)")

            // The libraries are regular files (symlinks followed), the program keeps its mode.
            let verbose = try runProgram("tar", ["-tvzf", store.path(of: first.layers[0].descriptor.digest)]).out
            let lines = verbose.split(separator: "\n")
            #expect(lines.first { $0.hasSuffix(" lib/\(hostTriple)/libc.so.6") }?.hasPrefix("-") == true)
            #expect(lines.first { $0.hasSuffix(" \(interpreter)") }?.hasPrefix("-") == true)
            #expect(lines.first { $0.hasSuffix(" usr/local/bin/ls") }?.hasPrefix("-rwxr-xr-x") == true)

            let config = try store.config(of: try store.manifest(for: first.manifest))
            #expect(config.history?.last?.created_by == "stackship: add executable ls /usr/local/bin/ls")

            // Same program, same libraries: same layer and image, in this store and a new one.
            let (again, _) = try dir.buildImage(layers: layers)
            let (elsewhere, _) = try dir.buildImage(layers: layers, store: "store2")
            #expect(again.layers == first.layers && elsewhere.layers == first.layers)
            #expect(again.manifest.digest == first.manifest.digest && elsewhere.manifest.digest == first.manifest.digest)
        }
    }

    @Test func buildErrorsPointAtTheLayer() throws {
        try withStackDir { dir in
            let script = try dir.write("run.sh", "#!/bin/sh\n", mode: 0o755)
            #expect {
                try dir.buildImage(layers: "      - executable: run.sh\n        destination: /run.sh\n")
            } throws: { error in
                guard let error = error as? StackBuildError,
                      case let .executableLayer(image, layer, reason) = error else { return false }
                return image == "app" && layer == SourceLocation(file: "stack.yaml", line: 4, column: 9)
                    && reason == .notELF(path: script)
                    && "\(error)".hasPrefix("stack.yaml:4:9: image 'app': \(script) is not an ELF executable")
            }
            try dir.copyHostLS()
            #expect {
                try dir.buildImage(layers: "      - executable: ls\n        destination: /ls\n", platform: otherPlatform)
            } throws: { error in
                guard case .executablePlatformMismatch(_, _, dir.path + "/ls", Platform.host.architecture, otherPlatform)? = error as? StackBuildError else { return false }
                return "\(error)".contains("set platform: linux/\(Platform.host.architecture)")
            }
        }
    }
}

// MARK: - Stack file syntax

@Suite("executable layers: stack file")
struct ExecutableLayerStackFileTests {
    @Test func parsesAnExecutableLayer() throws {
        try withStackDir { dir in
            try dir.write("build/hello", "\u{7f}ELF", mode: 0o755)
            try dir.write("static.txt")
            let stack = try dir.parse("""
                images:
                  app:
                    layers:
                      - executable: build/hello
                        destination: /usr/local/bin/hello
                        comment: the server
                      - source: static.txt
                        destination: /srv/static.txt

                """)
            let layers = try stack.image(named: "app").layers
            #expect(layers[0].kind == .executable)
            #expect(layers[0].source == dir.path + "/build/hello")
            #expect(layers[0].destination == "/usr/local/bin/hello")
            #expect(layers[0].mode == nil && layers[0].comment == "the server")
            #expect(layers[1].kind == .tree)
        }
    }

    @Test func sourceAndExecutableTogether() throws {
        try withStackDir { dir in
            try dir.write("f")
            check(dir.error("images:\n  app:\n    layers:\n      - source: f\n        executable: f\n        destination: /f\n"),
                  line: 5, column: 9, message: "layer 1 of image 'app' has both `source:` and `executable:`",
                  hint: "a layer has exactly one of them")
            check(dir.error("images:\n  app:\n    layers: [{executable: f, destination: /f, source: f}]\n"),
                  line: 3, column: 47, message: "has both `executable:` and `source:`")
        }
    }

    @Test func executableNeedsADestination() throws {
        try withStackDir { dir in
            try dir.write("hello")
            check(dir.error("images:\n  app:\n    layers:\n      - executable: hello\n        comment: x\n"), line: 4, column: 9,
                  message: "missing key 'destination' in layer 1 of image 'app'", hint: "such as /usr/local/bin/hello")
            check(dir.error("images:\n  app:\n    layers:\n      - executable: hello\n        destination: /\n"), line: 5, column: 22,
                  message: "the destination of an executable is the program's path inside the image, not '/'")
            check(dir.error("images:\n  app:\n    layers:\n      - executable:\n        destination: /x\n"), line: 4, column: 9,
                  message: "`executable` must be the path of an ELF program, found nothing")
        }
    }

    @Test func executableMustBeAnExistingFile() throws {
        try withStackDir { dir in
            try dir.mkdir("build")
            check(dir.error("images:\n  app:\n    layers:\n      - executable: build\n        destination: /x\n"), line: 4, column: 21,
                  message: "executable 'build' is a directory", hint: "use `source:` to copy a directory")
            check(dir.error("images:\n  app:\n    layers:\n      - executable: build/hello\n        destination: /x\n"), line: 4, column: 21,
                  message: "executable 'build/hello' does not exist (looked for \(dir.path)/build/hello)", hint: "build it first")
        }
    }

    @Test func treeOptionsDoNotApplyToExecutables() throws {
        try withStackDir { dir in
            try dir.write("hello")
            check(dir.error("images:\n  app:\n    layers:\n      - executable: hello\n        destination: /x\n        exclude: [\"*.o\"]\n"),
                  line: 6, column: 9, message: "`exclude` applies only to `source:` layers", hint: "remove it")
            check(dir.error("images:\n  app:\n    layers:\n      - executable: hello\n        follow_symlinks: true\n        destination: /x\n"),
                  line: 5, column: 9, message: "`follow_symlinks` applies only to `source:` layers")
            let stack = try dir.parse("images:\n  app:\n    layers:\n      - {executable: hello, destination: /x, mode: 0700}\n")
            #expect(try stack.image(named: "app").layers[0].mode == 0o700)
        }
    }
}

extension ExecutableLayerBuildTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        @Test func packedProgramRunsInItsOwnRoot() throws {
            try #require(geteuid() == 0, "chroot needs root")
            try withStackDir { dir in
                try dir.buildGreeter("greet", runpath: false)
                try dir.copyHostLS()
                let layers = """
                      - executable: ls
                        destination: /usr/local/bin/ls
                      - executable: bin/greet
                        destination: /opt/greet/bin/greet

                """
                let (built, store) = try dir.buildImage(layers: layers)
                #expect(try layerNames(built, in: store, layer: 1).contains("opt/greet/lib/libinner.so"))
                let root = try dir.mkdir("root")
                for layer in built.layers {
                    let unpack = try runProgram("tar", ["-xzf", store.path(of: layer.descriptor.digest), "-C", root])
                    #expect(unpack.status == 0, "\(unpack.err)")
                }
                let ls = try runProgram("/usr/sbin/chroot", [root, "/usr/local/bin/ls", "/"])
                #expect(ls.status == 0, "\(ls.err)")
                #expect(ls.out.split(separator: "\n").contains("usr"), "\(ls.out)")
                // ld.so takes a program's $ORIGIN from /proc/self/exe, and a bare chroot has no /proc;
                // started through the loader, the program's $ORIGIN comes from the path given instead.
                let greet = try runProgram("/usr/sbin/chroot", [root, hostInterpreter, "/opt/greet/bin/greet"])
                #expect(greet.status == 0, "\(greet.err)")
                #expect(greet.out == "hello from greet 42\n")
            }
        }
    }
}

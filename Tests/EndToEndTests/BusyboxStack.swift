import Foundation

/// The five-package stack the package, test-command and pipeline tests build: a busybox builder
/// image defined in the stack itself, and script packages a ← b ← c, a ← d, e needing c and d to
/// run and b to build. Each test adds its own images (after the builder) and top-level keys.
enum BusyboxStack {
    /// Writes the builder folder, the sources and `stack.yaml` with `images` (YAML lines at the
    /// images level, indented two spaces) and `trailer` (top-level YAML) appended.
    static func write(_ project: Project, images: String, trailer: String = "") throws {
        try requireTool("busybox", package: "busybox-static")
        try requireTool("runc", package: "runc")
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) }!
        try FileManager.default.createDirectory(atPath: project.path + "/builder/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: project.path + "/builder/bin/busybox")
        for tool in ["sh", "cat", "echo", "mkdir", "cp", "chmod", "printf", "false", "httpd", "sleep"] {
            try FileManager.default.createSymbolicLink(atPath: project.path + "/builder/bin/" + tool, withDestinationPath: "busybox")
        }
        try project.write("src/a/a.txt", "alpha\n")
        try project.write("src/b/b.txt", "beta\n")
        try project.write("stack.yaml", """
        version: 2
        bases:
          builder: builder:latest
          runtime: builder:latest
        packages:
          a:
            version: "1.0"
            source: ./src/a
            build:
              script: |
                mkdir -p $PREFIX/share $PREFIX/bin
                cp a.txt $PREFIX/share/a.txt
                printf '#!/bin/sh\\ncat /opt/stack/*/share/*.txt\\n' > $PREFIX/bin/show
                chmod 755 $PREFIX/bin/show
          b:
            source: ./src/b
            depends_on: [a]
            build:
              script: mkdir -p $PREFIX/share && cat $A_PREFIX/share/a.txt b.txt > $PREFIX/share/ab.txt
          c:
            depends_on: [b]
            build:
              script: mkdir -p $PREFIX/share && cat $B_PREFIX/share/ab.txt > $PREFIX/share/c.txt
          d:
            depends_on: [a]
            build:
              script: mkdir -p $PREFIX/share && echo d > $PREFIX/share/d.txt
          e:
            depends_on: [c, d]
            build_depends_on: [b]
            build:
              script: mkdir -p $PREFIX/share && cat $C_PREFIX/share/c.txt $D_PREFIX/share/d.txt > $PREFIX/share/e.txt
        images:
          builder:
            layers:
              - source: ./builder
                destination: /

        """ + images + "\n" + trailer)
    }
}

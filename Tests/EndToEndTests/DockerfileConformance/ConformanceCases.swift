import Foundation

/// The suite: one Dockerfile feature per case. Expectations are docker's documented behaviour
/// (and, where the documentation is silent, what BuildKit, docker's builder, does; the source is
/// named beside the case).
enum ConformanceCases {
    static let all: [ConformanceCase] = from + args + env + workdirAndUser + copy + add + run + config + parsing

    /// The two lines most cases start with.
    static let base = "ARG REGISTRY\nFROM ${REGISTRY}/busybox:1\n"
    static let path = BusyboxBase.path
    static let hello = ContextItem.file("hello.txt", "hello\n")
    static let hostPlatform = "\(BusyboxBase.platform.os)/\(BusyboxBase.platform.architecture)"

    // Why buildah (Debian's 1.28) differs, named once for the cases that share a reason.
    static let noLink = "buildah 1.28's COPY takes only --chmod, --chown and --from (no --link)"
    static let noExclude = "buildah 1.28's COPY takes only --chmod, --chown and --from (no --exclude)"
    static let noHeredoc = "buildah 1.28 reads no here-documents: `<<EOF` is taken as a path or a command"
    static let noNetworkFlag = "buildah 1.28's RUN takes only --mount (no --network)"
    static let mountStub = "buildah 1.28 leaves the mount point it made for a RUN mount (containers/buildah#4242, fixed by #6233); "
        + "BuildKit removes the stubs it made (moby/buildkit#3307)"
    static let scratchWorkdir = "buildah leaves WorkingDir empty on a scratch image; BuildKit's empty image sets \"/\" (dockerfile2llb emptyImage)"

    // MARK: FROM

    static let from: [ConformanceCase] = [
        ConformanceCase(
            name: "from-scratch",
            dockerfile: #"""
            FROM scratch
            COPY hello.txt /

            """#,
            context: [hello],
            startsFrom: .scratch,
            files: [.file("/hello.txt", "hello\n")],
            absent: ["/bin", "/etc"],
            buildah: [.config(.WorkingDir, because: scratchWorkdir)]),
        ConformanceCase(
            name: "from-image",
            dockerfile: base,
            files: [
                .file("/bin/busybox", nil, mode: 0o755), .symlink("/bin/sh", to: "/bin/busybox"), .symlink("/usr/bin/env", to: "/bin/busybox"),
                .file("/etc/passwd", BusyboxBase.passwd), .file("/etc/group", BusyboxBase.group),
                .directory("/home/app", uid: 1000, gid: 1000), .directory("/tmp", mode: 0o1777), .directory("/root", mode: 0o700),
            ]),
        ConformanceCase(
            name: "from-previous-stage",
            dockerfile: #"""
            ARG REGISTRY
            FROM ${REGISTRY}/busybox:1 AS base
            ENV STAGE=base
            RUN echo one > /one
            FROM base
            RUN echo two > /two

            """#,
            config: [.env([path, "STAGE=base"])],
            files: [.file("/one", "one\n"), .file("/two", "two\n")]),
        ConformanceCase(
            name: "from-stage-name-any-case",
            // Docker: stage names are case-insensitive (BuildKit's parseBuildStageName lowercases them).
            dockerfile: #"""
            ARG REGISTRY
            FROM ${REGISTRY}/busybox:1 as Build
            RUN echo built > /built
            FROM build

            """#,
            files: [.file("/built", "built\n")],
            buildah: [.cannotBuild(because: "buildah 1.28 matches stage names case-sensitively, so `FROM build` is pulled as an image")]),
        ConformanceCase(
            name: "from-platform-buildplatform",
            dockerfile: #"""
            ARG REGISTRY
            FROM --platform=$BUILDPLATFORM ${REGISTRY}/busybox:1
            ARG BUILDPLATFORM
            ARG TARGETARCH
            RUN echo "$BUILDPLATFORM $TARGETARCH" > /platform

            """#,
            files: [.file("/platform", "\(hostPlatform) \(BusyboxBase.platform.architecture)\n")]),
    ]

    // MARK: ARG

    static let args: [ConformanceCase] = [
        ConformanceCase(
            name: "arg-global-redeclared-in-stage",
            dockerfile: #"""
            ARG REGISTRY
            ARG GREETING=from-global
            FROM ${REGISTRY}/busybox:1
            ARG GREETING
            RUN echo "$GREETING" > /greeting

            """#,
            files: [.file("/greeting", "from-global\n")]),
        ConformanceCase(
            name: "arg-global-not-seen-in-stage",
            dockerfile: #"""
            ARG REGISTRY
            ARG GLOBAL=global-value
            FROM ${REGISTRY}/busybox:1
            RUN echo "[$GLOBAL]" > /global

            """#,
            files: [.file("/global", "[]\n")]),
        ConformanceCase(
            name: "arg-default",
            // An ARG is in RUN's environment but never in the image's config.
            dockerfile: base + #"""
            ARG LEVEL=default-level
            ARG DIR=/opt/by-arg
            WORKDIR $DIR
            RUN echo "$LEVEL" > /level

            """#,
            config: [.workingDir("/opt/by-arg")],
            files: [.file("/level", "default-level\n"), .directory("/opt/by-arg")]),
        ConformanceCase(
            name: "arg-build-arg-overrides-default",
            dockerfile: base + #"""
            ARG LEVEL=default-level
            RUN echo "$LEVEL" > /level

            """#,
            buildArgs: ["LEVEL": "from-command-line"],
            files: [.file("/level", "from-command-line\n")]),
    ]

    // MARK: ENV, LABEL

    static let env: [ConformanceCase] = [
        ConformanceCase(
            name: "env-key-value-pairs",
            dockerfile: base + #"""
            ENV APP_MODE=production GREETING="hello world" EMPTY=

            """#,
            config: [.env([path, "APP_MODE=production", "GREETING=hello world", "EMPTY="])]),
        ConformanceCase(
            name: "env-legacy-form",
            dockerfile: base + #"""
            ENV LEGACY value with spaces

            """#,
            config: [.env([path, "LEGACY=value with spaces"])]),
        ConformanceCase(
            name: "env-used-by-later-instructions",
            dockerfile: base + #"""
            ENV DIR=/opt/app
            ENV CONF=${DIR}/conf FALLBACK=${UNSET:-fallback} SET=${DIR:+yes}
            WORKDIR $DIR
            COPY hello.txt $CONF/
            LABEL dir=$DIR
            RUN echo "$CONF $FALLBACK $SET" > env.txt

            """#,
            context: [hello],
            config: [.env([path, "DIR=/opt/app", "CONF=/opt/app/conf", "FALLBACK=fallback", "SET=yes"]), .workingDir("/opt/app"),
                     .labels(["dir": "/opt/app"])],
            files: [.file("/opt/app/conf/hello.txt", "hello\n"), .file("/opt/app/env.txt", "/opt/app/conf fallback yes\n"),
                    .directory("/opt/app/conf")]),
        ConformanceCase(
            name: "label",
            dockerfile: base + #"""
            LABEL org.example.name="conformance" version=1.0
            LABEL "with space"="a b"

            """#,
            config: [.labels(["org.example.name": "conformance", "version": "1.0", "with space": "a b"])]),
    ]

    // MARK: WORKDIR, USER

    static let workdirAndUser: [ConformanceCase] = [
        ConformanceCase(
            name: "workdir-relative",
            dockerfile: base + #"""
            WORKDIR /a
            WORKDIR b
            WORKDIR c
            RUN pwd > /workdir

            """#,
            config: [.workingDir("/a/b/c")],
            files: [.directory("/a"), .directory("/a/b"), .directory("/a/b/c"), .file("/workdir", "/a/b/c\n")]),
        ConformanceCase(
            name: "workdir-created-without-run",
            // BuildKit makes a WORKDIR that does not exist, RUN or not.
            dockerfile: base + #"""
            WORKDIR /srv/deep/nested

            """#,
            config: [.workingDir("/srv/deep/nested")],
            files: [.directory("/srv"), .directory("/srv/deep"), .directory("/srv/deep/nested")],
            buildah: [.path("/srv", because: "buildah 1.28 makes a WORKDIR's directory only in the layer of a later RUN or COPY; "
                            + "BuildKit's dispatchWorkdir makes it (mode 0755, parents too) at the WORKDIR")]),
        ConformanceCase(
            name: "workdir-from-env",
            dockerfile: base + #"""
            ENV APP_HOME=/home/app/service
            WORKDIR $APP_HOME
            RUN pwd > /tmp/where

            """#,
            config: [.env([path, "APP_HOME=/home/app/service"]), .workingDir("/home/app/service")],
            files: [.directory("/home/app/service"), .file("/tmp/where", "/home/app/service\n")]),
        ConformanceCase(
            name: "user-by-name",
            dockerfile: base + #"""
            USER app
            RUN id -u > /tmp/uid && id -g > /tmp/gid

            """#,
            config: [.user("app")],
            files: [.file("/tmp/uid", "1000\n", uid: 1000, gid: 1000), .file("/tmp/gid", "1000\n", uid: 1000, gid: 1000)]),
        ConformanceCase(
            name: "user-by-uid-and-gid",
            // A numeric user need not be in /etc/passwd.
            dockerfile: base + #"""
            USER 4242:4343
            RUN id -u > /tmp/ids && id -g >> /tmp/ids

            """#,
            config: [.user("4242:4343")],
            files: [.file("/tmp/ids", "4242\n4343\n", uid: 4242, gid: 4343)]),
    ]

    // MARK: COPY

    static let conf: [ContextItem] = [
        .file("conf/app.conf", "a=1\n"), .file("conf/sub/extra.conf", "b=2\n"), .file("conf/run.sh", "#!/bin/sh\necho run\n", mode: 0o755),
    ]

    static let copy: [ConformanceCase] = [
        ConformanceCase(
            name: "copy-file-keeps-mode",
            dockerfile: base + "COPY hello.txt /hello.txt\n",
            context: [.file("hello.txt", "hello\n", mode: 0o640)],
            files: [.file("/hello.txt", "hello\n", mode: 0o640)]),
        ConformanceCase(
            name: "copy-directory-contents",
            // COPY of a directory copies what is in it, not the directory itself.
            dockerfile: base + "COPY conf /etc/app\n",
            context: conf,
            files: [.file("/etc/app/app.conf", "a=1\n"), .file("/etc/app/sub/extra.conf", "b=2\n"), .directory("/etc/app/sub"),
                    .file("/etc/app/run.sh", "#!/bin/sh\necho run\n", mode: 0o755)],
            absent: ["/etc/app/conf"]),
        ConformanceCase(
            name: "copy-wildcard",
            dockerfile: base + "COPY *.txt /texts/\n",
            context: [.file("a.txt", "a\n"), .file("b.txt", "b\n"), .file("c.md", "c\n")],
            files: [.file("/texts/a.txt", "a\n"), .file("/texts/b.txt", "b\n"), .directory("/texts")],
            absent: ["/texts/c.md"]),
        ConformanceCase(
            name: "copy-into-directory-with-trailing-slash",
            dockerfile: base + "COPY tool.sh /opt/tools/\n",
            context: [.file("tool.sh", "#!/bin/sh\necho tool\n", mode: 0o755)],
            files: [.directory("/opt"), .directory("/opt/tools"), .file("/opt/tools/tool.sh", "#!/bin/sh\necho tool\n", mode: 0o755)]),
        ConformanceCase(
            name: "copy-to-new-file-name",
            dockerfile: base + "COPY hello.txt /etc/greeting.conf\n",
            context: [hello],
            files: [.file("/etc/greeting.conf", "hello\n")],
            absent: ["/etc/hello.txt", "/etc/greeting.conf/hello.txt"]),
        ConformanceCase(
            name: "copy-relative-destination-under-workdir",
            dockerfile: base + #"""
            WORKDIR /app
            COPY hello.txt data/
            COPY hello.txt renamed.txt

            """#,
            context: [hello],
            config: [.workingDir("/app")],
            files: [.file("/app/data/hello.txt", "hello\n"), .file("/app/renamed.txt", "hello\n")]),
        ConformanceCase(
            name: "copy-chown-by-name",
            dockerfile: base + "COPY --chown=app:app hello.txt /home/app/hello.txt\n",
            context: [hello],
            files: [.file("/home/app/hello.txt", "hello\n", uid: 1000, gid: 1000)]),
        ConformanceCase(
            name: "copy-chown-by-id",
            dockerfile: base + "COPY --chown=4242:4343 conf /owned/\n",
            context: conf,
            files: [.file("/owned/app.conf", "a=1\n", uid: 4242, gid: 4343), .directory("/owned/sub", uid: 4242, gid: 4343),
                    .file("/owned/sub/extra.conf", "b=2\n", uid: 4242, gid: 4343)]),
        ConformanceCase(
            name: "copy-chmod",
            dockerfile: base + #"""
            COPY --chmod=0640 hello.txt /private.txt
            COPY --chmod=755 hello.txt /usr/local/bin/hello

            """#,
            context: [hello],
            files: [.file("/private.txt", "hello\n", mode: 0o640), .file("/usr/local/bin/hello", "hello\n", mode: 0o755)]),
        ConformanceCase(
            name: "copy-from-stage",
            dockerfile: #"""
            ARG REGISTRY
            FROM ${REGISTRY}/busybox:1 AS builder
            RUN mkdir -p /out && echo artifact > /out/artifact.txt
            FROM ${REGISTRY}/busybox:1
            COPY --from=builder /out/artifact.txt /artifact.txt

            """#,
            files: [.file("/artifact.txt", "artifact\n")],
            absent: ["/out"]),
        ConformanceCase(
            name: "copy-from-image",
            // The image is named literally: BuildKit expands only global args in --from, buildah
            // none, so the fixture writes the registry's host into the text.
            dockerfile: base + "COPY --from=@REGISTRY@/busybox:1 /etc/passwd /copied/passwd\n",
            files: [.file("/copied/passwd", BusyboxBase.passwd)]),
        ConformanceCase(
            name: "copy-link",
            dockerfile: base + "COPY --link hello.txt /linked/hello.txt\n",
            context: [hello],
            files: [.file("/linked/hello.txt", "hello\n")],
            buildah: [.cannotBuild(because: noLink)]),
        ConformanceCase(
            name: "copy-exclude",
            dockerfile: base + "COPY --exclude=*.log . /kept/\n",
            context: [.file("report.txt", "report\n"), .file("debug.log", "debug\n")],
            files: [.file("/kept/report.txt", "report\n")],
            absent: ["/kept/debug.log"],
            buildah: [.cannotBuild(because: noExclude)]),
        ConformanceCase(
            name: "copy-heredoc",
            dockerfile: base + #"""
            COPY <<EOF /etc/motd
            Welcome to the conformance image
            EOF

            """#,
            files: [.file("/etc/motd", "Welcome to the conformance image\n")],
            buildah: [.cannotBuild(because: noHeredoc)]),
    ]

    // MARK: ADD

    static let bundle: [ArchiveItem] = [
        .directory("bundle"), .file("bundle/data.txt", "in the tar\n", mode: 0o640), .symlink("bundle/link", to: "data.txt"),
    ]
    static let unpacked: [PathExpectation] = [
        .directory("/unpacked/bundle"), .file("/unpacked/bundle/data.txt", "in the tar\n", mode: 0o640),
        .symlink("/unpacked/bundle/link", to: "data.txt"),
    ]

    static let add: [ConformanceCase] = [
        ConformanceCase(
            name: "add-local-tar-is-extracted",
            dockerfile: base + "ADD bundle.tar /unpacked/\n",
            context: [.tar("bundle.tar", gzip: false, entries: bundle)],
            files: unpacked,
            absent: ["/unpacked/bundle.tar"]),
        ConformanceCase(
            name: "add-local-tar-gz-is-extracted",
            dockerfile: base + "ADD bundle.tar.gz /unpacked/\n",
            context: [.tar("bundle.tar.gz", gzip: true, entries: bundle)],
            files: unpacked,
            absent: ["/unpacked/bundle.tar.gz"]),
        ConformanceCase(
            name: "add-plain-file",
            dockerfile: base + "ADD note.txt /notes/\n",
            context: [.file("note.txt", "note\n", mode: 0o600)],
            files: [.file("/notes/note.txt", "note\n", mode: 0o600)]),
    ]

    // MARK: RUN

    static let run: [ConformanceCase] = [
        ConformanceCase(
            name: "run-shell-form",
            dockerfile: base + #"""
            RUN echo "sum $((2 + 3))" > /shell-form && echo "$0" >> /shell-form

            """#,
            files: [.file("/shell-form", "sum 5\n/bin/sh\n")]),
        ConformanceCase(
            name: "run-exec-form",
            // No shell and no substitution: the directory is literally named `$HOME`.
            dockerfile: base + #"""
            RUN ["/bin/mkdir", "-p", "/exec/$HOME"]

            """#,
            files: [.directory("/exec"), .directory("/exec/$HOME")]),
        ConformanceCase(
            name: "run-deletes-base-files",
            // The deletions are whiteouts in the RUN's layer.
            dockerfile: base + "RUN rm /bin/vi && rm -r /home/app\n",
            files: [.symlink("/bin/ls", to: "/bin/busybox"), .directory("/home")],
            absent: ["/bin/vi", "/home/app"]),
        ConformanceCase(
            name: "run-mount-cache",
            dockerfile: base + #"""
            RUN --mount=type=cache,target=/tmp/cache echo cached > /tmp/cache/entry && cp /tmp/cache/entry /from-cache

            """#,
            files: [.file("/from-cache", "cached\n")],
            absent: ["/tmp/cache"],
            buildah: [.path("/tmp/cache", because: mountStub)]),
        ConformanceCase(
            name: "run-mount-bind-from-context",
            dockerfile: base + #"""
            RUN --mount=type=bind,source=hello.txt,target=/tmp/bound.txt cp /tmp/bound.txt /from-bind

            """#,
            context: [hello],
            files: [.file("/from-bind", "hello\n")],
            absent: ["/tmp/bound.txt", "/hello.txt"],
            buildah: [.path("/tmp/bound.txt", because: mountStub)]),
        ConformanceCase(
            name: "run-mount-tmpfs",
            dockerfile: base + #"""
            RUN --mount=type=tmpfs,target=/tmp/scratch echo temporary > /tmp/scratch/file && ls /tmp/scratch > /tmpfs-listing

            """#,
            files: [.file("/tmpfs-listing", "file\n")],
            absent: ["/tmp/scratch"],
            buildah: [.path("/tmp/scratch", because: mountStub)]),
        ConformanceCase(
            name: "run-mount-secret",
            dockerfile: base + #"""
            RUN --mount=type=secret,id=api_token sed 's/s3cr3t/seen/' /run/secrets/api_token > /secret-used

            """#,
            secrets: ["api_token": "s3cr3t-token\n"],
            files: [.file("/secret-used", "seen-token\n")],
            absent: ["/run/secrets/api_token", "/run/secrets"],
            forbiddenContent: ["s3cr3t"],
            buildah: [.path("/run/secrets", because: "buildah 1.28 leaves the empty directory it made for the secret's mount "
                            + "(containers/buildah#6233); BuildKit removes the mount stubs it made, parents included (moby/buildkit#3314)")]),
        ConformanceCase(
            name: "run-network-none",
            dockerfile: base + #"""
            RUN --network=none sed 1,2d /proc/net/dev | cut -d: -f1 | tr -d ' ' > /interfaces

            """#,
            files: [.file("/interfaces", "lo\n")],
            buildah: [.cannotBuild(because: noNetworkFlag)]),
        ConformanceCase(
            name: "run-heredoc",
            dockerfile: base + #"""
            RUN <<EOF
            echo first > /heredoc
            echo second >> /heredoc
            EOF

            """#,
            files: [.file("/heredoc", "first\nsecond\n")],
            buildah: [.cannotBuild(because: noHeredoc)]),
    ]

    // MARK: Config instructions

    static let config: [ConformanceCase] = [
        ConformanceCase(
            name: "expose",
            dockerfile: base + "EXPOSE 80 443/tcp 53/udp\nEXPOSE 8080\n",
            config: [.exposedPorts(["80/tcp", "443/tcp", "53/udp", "8080/tcp"])]),
        ConformanceCase(
            name: "volume",
            // VOLUME changes the config only (BuildKit's dispatchVolume makes no directory).
            dockerfile: base + "VOLUME /data /logs\nVOLUME [\"/cache\"]\n",
            config: [.volumes(["/data", "/logs", "/cache"])],
            absent: ["/data", "/logs", "/cache"]),
        ConformanceCase(
            name: "entrypoint-and-cmd-exec-form",
            dockerfile: base + "ENTRYPOINT [\"/bin/echo\", \"hello\"]\nCMD [\"world\"]\n",
            config: [.entrypoint(["/bin/echo", "hello"]), .cmd(["world"])]),
        ConformanceCase(
            name: "entrypoint-clears-inherited-cmd",
            // "If CMD is defined from the base image, setting ENTRYPOINT will reset CMD to an empty value."
            dockerfile: base + "ENTRYPOINT [\"/bin/date\"]\n",
            config: [.entrypoint(["/bin/date"]), .cmd(nil)]),
        ConformanceCase(
            name: "entrypoint-keeps-cmd-of-same-stage",
            dockerfile: base + "CMD [\"-u\"]\nENTRYPOINT [\"/bin/date\"]\n",
            config: [.entrypoint(["/bin/date"]), .cmd(["-u"])]),
        ConformanceCase(
            name: "entrypoint-shell-form",
            dockerfile: base + "ENTRYPOINT exec /bin/echo from entrypoint\n",
            config: [.entrypoint(["/bin/sh", "-c", "exec /bin/echo from entrypoint"]), .cmd(nil)]),
        ConformanceCase(
            name: "cmd-shell-form",
            dockerfile: base + "CMD echo \"$HOME\"\n",
            config: [.cmd(["/bin/sh", "-c", "echo \"$HOME\""])]),
        ConformanceCase(
            name: "shell-then-run",
            dockerfile: base + #"""
            SHELL ["/bin/ash", "-euc"]
            RUN echo "$0" > /shell-used
            CMD echo from-shell-form

            """#,
            config: [.shell(["/bin/ash", "-euc"]), .cmd(["/bin/ash", "-euc", "echo from-shell-form"])],
            files: [.file("/shell-used", "/bin/ash\n")],
            buildah: [.config(.Cmd, because: "buildah 1.28 writes a shell-form CMD with /bin/sh -c whatever the SHELL; "
                              + "BuildKit's dispatchCmd prepends the SHELL, as the reference says")]),
        ConformanceCase(
            name: "healthcheck-options",
            dockerfile: base + #"""
            HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD wget -q -O /dev/null http://localhost/ || exit 1

            """#,
            config: [.healthcheck(Healthcheck(test: ["CMD-SHELL", "wget -q -O /dev/null http://localhost/ || exit 1"], interval: 30_000_000_000,
                                              timeout: 5_000_000_000, startPeriod: 10_000_000_000, retries: 3))]),
        ConformanceCase(
            name: "healthcheck-none",
            dockerfile: base + "HEALTHCHECK CMD [\"/bin/true\"]\nHEALTHCHECK NONE\n",
            config: [.healthcheck(Healthcheck(test: ["NONE"]))]),
        ConformanceCase(
            name: "stopsignal",
            dockerfile: base + "STOPSIGNAL SIGUSR1\n",
            config: [.stopSignal("SIGUSR1")]),
        ConformanceCase(
            name: "onbuild-recorded-not-run",
            dockerfile: base + "ONBUILD RUN echo triggered > /triggered\nONBUILD ENV LATER=1\n",
            config: [.onBuild(["RUN echo triggered > /triggered", "ENV LATER=1"])],
            absent: ["/triggered"]),
    ]

    // MARK: Parsing, context, stages

    static let parsing: [ConformanceCase] = [
        ConformanceCase(
            name: "line-continuations",
            dockerfile: base + #"""
            RUN echo one \
                two \
                three > /joined
            ENV LIST="a \
            b"

            """#,
            config: [.env([path, "LIST=a b"])],
            files: [.file("/joined", "one two three\n")]),
        ConformanceCase(
            name: "comments",
            dockerfile: #"""
            # a comment before the first instruction
            ARG REGISTRY
            FROM ${REGISTRY}/busybox:1
                # an indented comment
            RUN echo kept \
            # a comment inside a continuation
                too > /comments
            ENV HASH=value#not-a-comment

            """#,
            config: [.env([path, "HASH=value#not-a-comment"])],
            files: [.file("/comments", "kept too\n")]),
        ConformanceCase(
            name: "escape-directive",
            dockerfile: #"""
            # escape=`
            ARG REGISTRY
            FROM ${REGISTRY}/busybox:1
            RUN echo escaped `
                continuation > /escaped
            ENV WINDOWS_PATH=C:\tools\bin

            """#,
            config: [.env([path, #"WINDOWS_PATH=C:\tools\bin"#])],
            files: [.file("/escaped", "escaped continuation\n")],
            buildah: [.config(.Env, because: "buildah 1.28 still takes `\\` as the escape in ENV words (C:toolsbin); BuildKit's "
                              + "word lexer uses the directive's escape character, so a backslash is literal")]),
        ConformanceCase(
            name: "dockerignore",
            // Patterns match from the context root (`*.log` is not `sub/nested.log`); `!` re-includes.
            dockerfile: base + "COPY . /ctx/\n",
            context: [.file(".dockerignore", "*.log\n!keep.log\nsecret\n**/*.tmp\n"), .file("app.txt", "app\n"), .file("debug.log", "debug\n"),
                      .file("keep.log", "keep\n"), .file("secret/key", "key\n"), .file("sub/data.txt", "data\n"),
                      .file("sub/nested.log", "nested\n"), .file("sub/cache.tmp", "tmp\n")],
            files: [.file("/ctx/app.txt", "app\n"), .file("/ctx/keep.log", "keep\n"), .file("/ctx/sub/data.txt", "data\n"),
                    .file("/ctx/sub/nested.log", "nested\n"), .file("/ctx/Dockerfile", nil), .file("/ctx/.dockerignore", nil)],
            absent: ["/ctx/debug.log", "/ctx/secret", "/ctx/sub/cache.tmp"]),
        ConformanceCase(
            name: "target-builds-earlier-stage",
            dockerfile: #"""
            ARG REGISTRY
            FROM ${REGISTRY}/busybox:1 AS first
            RUN echo first > /first
            LABEL stage=first
            FROM first AS second
            RUN echo second > /second
            LABEL stage=second

            """#,
            target: "first",
            config: [.labels(["stage": "first"])],
            files: [.file("/first", "first\n")],
            absent: ["/second"]),
    ]
}

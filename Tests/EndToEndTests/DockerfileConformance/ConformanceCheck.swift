import Foundation

/// Holds a built image to a case's expectations, and two builders' images to each other.
enum ConformanceCheck {
    /// Paths a build's runtime leaves behind and no Dockerfile asked for: the mount points and
    /// files a container runtime makes for RUN (`/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`,
    /// the empty `/dev`, `/proc`, `/sys` and `/run`, podman's `/run/.containerenv`). The base image
    /// has none of them, so where one builder leaves one and another does not, neither is wrong.
    static let runtimeLeftovers: Set<String> = [
        "/dev", "/proc", "/sys", "/run", "/run/.containerenv", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
    ]

    /// Labels a builder adds on its own (buildah's version stamp).
    static let builderLabels: Set<String> = ["io.buildah.version"]

    /// The config a case starts from.
    static func baseConfig(_ base: ExpectedBase) -> NormalizedConfig {
        var c = NormalizedConfig(architecture: BusyboxBase.platform.architecture, os: BusyboxBase.platform.os)
        c.env = [BusyboxBase.path]
        switch base {
        case .busybox:
            c.cmd = BusyboxBase.cmd
        case .scratch:
            // BuildKit's emptyImage (frontend/dockerfile/dockerfile2llb): PATH and WorkingDir "/".
            c.workingDir = "/"
        }
        return c
    }

    /// An image's config as compared: builder-stamped labels dropped.
    static func comparedConfig(_ image: LayoutImage) -> NormalizedConfig {
        var c = image.normalized
        c.labels = c.labels?.filter { !builderLabels.contains($0.key) }
        return c.normalized()
    }

    /// The file list as compared: `skipping` (with what is under them) dropped, and the runtime
    /// leftovers unless the case names them.
    static func comparedFiles(_ image: LayoutImage, keeping named: Set<String>, skipping: [String]) -> [String: ImageFile] {
        image.files.filter { path, _ in
            if isSkipped(path, skipping) { return false }
            return named.contains(path) || !runtimeLeftovers.contains(path)
        }
    }

    private static func isSkipped(_ path: String, _ skipping: [String]) -> Bool {
        skipping.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// Every way `image` misses the case's expectations, one line each; empty when it meets them.
    static func failures(of image: LayoutImage, against c: ConformanceCase, skippingFields: Set<ConfigField> = [],
                         skippingPaths: [String] = []) -> [String] {
        var out: [String] = []
        let expected = c.expectedConfig(base: baseConfig(c.startsFrom))
        for (field, want, got) in expected.differences(from: comparedConfig(image), skipping: skippingFields) {
            out.append("config \(field.rawValue): expected \(want), got \(got)")
        }
        for e in c.files where !isSkipped(e.path, skippingPaths) {
            guard let f = image.files[e.path] else {
                out.append("\(e.path): missing")
                continue
            }
            switch e.kind {
            case .file(let content):
                guard f.kind == .file || f.kind == .hardlink else {
                    out.append("\(e.path): expected a regular file, got \(f.summary)")
                    continue
                }
                if let content {
                    let got = image.text(at: e.path)
                    if got != content { out.append("\(e.path): expected content \(String(reflecting: content)), got \(got.map { String(reflecting: $0) } ?? "(not kept)")") }
                }
            case .directory:
                if f.kind != .directory { out.append("\(e.path): expected a directory, got \(f.summary)") }
            case .symlink(let target):
                if f.kind != .symlink || f.linkTarget != target { out.append("\(e.path): expected a symlink to \(target), got \(f.summary)") }
            }
            if case .symlink = e.kind { continue }
            if f.mode != e.mode { out.append("\(e.path): expected mode \(String(e.mode, radix: 8)), got \(String(f.mode, radix: 8))") }
            if f.uid != e.uid || f.gid != e.gid { out.append("\(e.path): expected owner \(e.uid):\(e.gid), got \(f.uid):\(f.gid)") }
        }
        for path in c.absent where !isSkipped(path, skippingPaths) {
            if let f = image.files[path] { out.append("\(path): expected absent, got \(f.summary)") }
        }
        for secret in c.forbiddenContent {
            for (path, f) in image.files.sorted(by: { $0.key < $1.key }) where f.kind == .file && !isSkipped(path, skippingPaths) {
                if let content = f.content, content.range(of: Data(secret.utf8)) != nil {
                    out.append("\(path): holds \(String(reflecting: secret)), which must not reach the image")
                }
            }
        }
        // History is not compared between builders (each words and dates it its own way), but
        // within an image its entries that are not empty_layer must match the layers one to one.
        if let history = image.config.history {
            let layered = history.filter { $0.empty_layer != true }.count
            if layered != image.layerCount { out.append("history: \(layered) entries without empty_layer, but \(image.layerCount) layers") }
        }
        return out
    }

    /// How two builders' images differ in config and merged file list (mtimes are not compared,
    /// runtime leftovers and `skippingPaths` are dropped); one line per difference.
    static func differences(_ a: (name: String, image: LayoutImage), _ b: (name: String, image: LayoutImage), of c: ConformanceCase,
                            skippingFields: Set<ConfigField>, skippingPaths: [String]) -> [String] {
        var out: [String] = []
        for (field, va, vb) in comparedConfig(a.image).differences(from: comparedConfig(b.image), skipping: skippingFields) {
            out.append("config \(field.rawValue): \(a.name) \(va), \(b.name) \(vb)")
        }
        let named = Set(c.files.map(\.path) + c.absent)
        let fa = comparedFiles(a.image, keeping: named, skipping: skippingPaths)
        let fb = comparedFiles(b.image, keeping: named, skipping: skippingPaths)
        for path in Set(fa.keys).union(fb.keys).sorted() {
            switch (fa[path], fb[path]) {
            case let (x?, y?) where x != y:
                out.append("\(path): \(a.name) \(x.summary), \(b.name) \(y.summary)")
            case let (x?, nil):
                out.append("\(path): only \(a.name) has it (\(x.summary))")
            case let (nil, y?):
                out.append("\(path): only \(b.name) has it (\(y.summary))")
            default:
                break
            }
        }
        return out
    }
}

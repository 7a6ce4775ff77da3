import ArgumentParser

/// `stackship run`'s everyday forms, read without ArgumentParser.
///
/// `run -d` is timed against bare runc, and in this binary ArgumentParser takes ~3 ms to hand
/// `run` its options: it builds the whole command tree, parses the arguments twice more to look
/// for a completion-script request, then reflects over the command and decodes it, each step
/// paying the Swift runtime's first-use costs. So `main` first tries `quick`, which knows `run`'s
/// own names and forms and nothing else, and gives up (nil) on anything beyond them: help,
/// `--`, joined short flags, a value that starts with '-' or is empty, a repeated flag or
/// single-value option, a non-number for --jobs, an unknown name. ArgumentParser then parses the
/// arguments as always, and says what is wrong with them. Either way the run works from a
/// `RunRequest`; RunQuickParseTests hold the two readers to the same one for every name here.
extension RunCommand {
    static func quick(_ arguments: [String]) -> RunRequest? {
        var flags: Set<String> = []
        var single: [String: String] = [:]
        var lists: [String: [String]] = [:]
        var image: String?
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            guard token.hasPrefix("-") else {
                image = token
                break
            }
            var name = token
            var attached: String?
            if token.hasPrefix("--"), let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                attached = String(token[token.index(after: equals)...])
            }
            guard let key = quickNames[name] else { return nil }
            if quickFlags.contains(key) {
                guard attached == nil, flags.insert(key).inserted else { return nil }
                continue
            }
            let value: String
            if let attached {
                value = attached
            } else {
                guard index < arguments.count else { return nil }
                value = arguments[index]
                index += 1
                guard !value.hasPrefix("-") else { return nil }
            }
            guard !value.isEmpty else { return nil }
            if quickLists.contains(key) {
                lists[key, default: []].append(value)
            } else {
                guard single.updateValue(value, forKey: key) == nil else { return nil }
            }
        }
        guard let image else { return nil }
        var jobs = RegistryOptions.defaultJobs
        if let text = single["jobs"] {
            guard let number = Int(text) else { return nil }
            jobs = number
        }

        return RunRequest(
            detach: flags.contains("detach"), name: single["name"], rm: flags.contains("rm"),
            interactive: flags.contains("interactive"), tty: flags.contains("tty"),
            env: lists["env"] ?? [], envFile: lists["env-file"] ?? [], publish: lists["publish"] ?? [],
            volume: lists["volume"] ?? [], network: single["network"] ?? defaultNetwork,
            entrypoint: single["entrypoint"], workdir: single["workdir"], user: single["user"],
            hostname: single["hostname"], readOnly: flags.contains("read-only"), label: lists["label"] ?? [],
            pull: single["pull"] ?? defaultPull, image: image,
            command: Array(arguments[index...]), // after the image, all is the container's
            runtime: single["runtime"], store: single["store"], insecure: flags.contains("insecure"),
            caCert: lists["ca-cert"] ?? [], creds: single["creds"], jobs: jobs)
    }

    /// Every name `run` takes, to its long name.
    static let quickNames: [String: String] = {
        var names: [String: String] = [:]
        let short = ["d": "detach", "i": "interactive", "t": "tty", "e": "env", "p": "publish", "v": "volume", "w": "workdir", "u": "user", "h": "hostname", "l": "label"]
        for (letter, long) in short { names["-" + letter] = long }
        for long in quickFlags.union(quickLists).union(quickSingles) { names["--" + long] = long }
        return names
    }()
    static let quickFlags: Set<String> = ["detach", "rm", "read-only", "insecure", "interactive", "tty"]
    static let quickLists: Set<String> = ["env", "env-file", "publish", "volume", "label", "ca-cert"]
    static let quickSingles: Set<String> = ["name", "network", "entrypoint", "workdir", "user", "hostname", "pull", "runtime", "store", "creds", "jobs"]
}

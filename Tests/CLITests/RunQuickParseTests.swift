import ArgumentParser
@testable import stackship
import Testing

/// `RunCommand.quick` must read every form it accepts exactly as ArgumentParser does (the same
/// RunRequest), and give up on the rest (which ArgumentParser then parses and reports).
struct RunQuickParseTests {
    /// What ArgumentParser makes of `stackship run ARGUMENTS`.
    static func parsed(_ arguments: [String]) throws -> RunRequest {
        let command = try Stackship.parseAsRoot(["run"] + arguments)
        return try #require(command as? RunCommand).request
    }

    static func agree(_ arguments: [String]) throws {
        let quick = try #require(RunCommand.quick(arguments), "quick gave up on \(arguments)")
        #expect(quick == (try parsed(arguments)), "\(arguments)")
    }

    @Test func everyNameReadsAsArgumentParserReadsIt() throws {
        #expect(RunCommand.quickNames.count == 33)
        for (name, key) in RunCommand.quickNames.sorted(by: { $0.key < $1.key }) {
            if RunCommand.quickFlags.contains(key) {
                try Self.agree([name, "hello"])
                continue
            }
            let value = key == "jobs" ? "7" : "value-\(key)"
            try Self.agree([name, value, "hello"])
            if name.hasPrefix("--") { try Self.agree(["\(name)=\(value)", "hello"]) }
        }
    }

    @Test func defaultsListsAndTheContainerCommand() throws {
        try Self.agree(["hello"])
        try Self.agree(["-d", "--store", "/tmp/s", "--network", "host", "-e", "HTTP_PORT=8080", "--name", "h1", "hello"])
        try Self.agree(["-d", "-p", "8090:80", "-p", "9000", "-e", "A=1", "--env=B=2", "-v", "/a:/b:ro", "-l", "x=y", "--rm", "hello:latest"])
        // After the image everything is the container's, options included.
        try Self.agree(["--rm", "hello", "/usr/local/bin/hello", "--help", "-d", "--", "x"])
        try Self.agree(["--name=-dash", "hello"]) // an attached value may start with '-'
        try Self.agree(["--pull", "never", "--jobs=12", "--ca-cert", "a.pem", "--ca-cert", "b.pem", "--creds", "u:p", "--insecure", "reg.example/x:1"])
        let command = try #require(RunCommand.quick(["-d", "-e", "A=1", "-e", "B=2", "img", "sh", "-c", "x"]))
        #expect(command.detach && command.env == ["A=1", "B=2"] && command.image == "img" && command.command == ["sh", "-c", "x"])
        #expect(command.network == "isolated" && command.pull == "missing" && command.jobs == 4)
    }

    @Test func givesUpOnAnythingElse() {
        let others: [[String]] = [
            [], ["--help"], ["--version"], ["--generate-completion-script", "bash"], ["-d"],
            ["--", "hello"], ["-dp", "80", "hello"], ["--name", "-x", "hello"], ["--name=", "hello"],
            ["--name", "a", "--name", "b", "hello"], ["-d", "-d", "hello"], ["--rm=true", "hello"],
            ["--jobs", "many", "hello"], ["--frobnicate", "hello"], ["-e"], ["--network"], ["-x", "hello"],
        ]
        for arguments in others {
            #expect(RunCommand.quick(arguments) == nil, "\(arguments)")
        }
    }
}

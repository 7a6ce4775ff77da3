import ArgumentParser
import Runtime
@testable import stackship
import Testing

/// `run` options with an empty or malformed part are refused, naming the flag and the form,
/// whichever reader (`RunCommand.quick` or ArgumentParser) read them: both give one
/// `RunRequest`, and `runOptions()` checks it before anything runs.
struct RunOptionValidationTests {
    /// The requests both readers make of `run ARGUMENTS hello`: one when quick gives up.
    static func requests(_ arguments: [String]) throws -> [RunRequest] {
        let parsed = try RunQuickParseTests.parsed(arguments + ["hello"])
        guard let quick = RunCommand.quick(arguments + ["hello"]) else { return [parsed] }
        #expect(quick == parsed, "\(arguments)")
        return [quick, parsed]
    }

    /// Both readers' requests fail `runOptions()` with a message holding `fragments`.
    static func refused(_ arguments: [String], _ fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        for request in try requests(arguments) {
            do {
                _ = try request.runOptions()
                Issue.record("\(arguments) was accepted", sourceLocation: sourceLocation)
            } catch {
                let text = CLI.describe(error)
                for fragment in fragments {
                    #expect(text.contains(fragment), "missing '\(fragment)' in: \(text)", sourceLocation: sourceLocation)
                }
                #expect(!text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func anEmptyLabelKeyIsRefused() throws {
        try Self.refused(["-l", "=x"], ["invalid label '=x' (-l/--label): the key is empty", "the form is KEY=VALUE"])
        try Self.refused(["--label=="], ["invalid label '=' (-l/--label)"])
        try Self.refused(["--label", " =x"], ["invalid label ' =x'"])
        // Empty values reach ArgumentParser only (quick gives up on them); they used to trap.
        #expect(RunCommand.quick(["-l", "", "hello"]) == nil)
        try Self.refused(["-l", ""], ["invalid label '' (-l/--label)"])
    }

    @Test func labelsKeepTheirValues() throws {
        for request in try Self.requests(["-l", "a=b", "-l", "empty", "-l", "eq==x", "-l", "b="]) {
            let options = try request.runOptions()
            #expect(options.labels == ["a": "b", "empty": "", "eq": "=x", "b": ""])
        }
    }

    @Test func emptyPartsOfOtherOptionsAreRefused() throws {
        try Self.refused(["-e", "=x"], ["invalid environment variable '=x' (-e)", "NAME=VALUE"])
        try Self.refused(["-e", ""], ["invalid environment variable '' (-e)"])
        try Self.refused(["-p", "80:"], ["invalid -p 80:", "'' is not a port number"])
        try Self.refused(["-p", "127.0.0.1:8080:"], ["invalid -p 127.0.0.1:8080:"])
        try Self.refused(["-p", ":"], ["invalid -p :"])
        try Self.refused(["-p", "80/"], ["invalid -p 80/", "nothing follows the '/'"])
        try Self.refused(["-p", "+80:+80"], ["'+80' is not a port number"])
        try Self.refused(["-v", ":/data"], ["invalid -v :/data", "HOST:CONTAINER"])
        try Self.refused(["-v", "/tmp:"], ["invalid -v /tmp:"])
        try Self.refused(["-v", "/tmp::ro"], ["invalid -v /tmp::ro"])
        try Self.refused(["-v", "/tmp:/data:"], ["invalid -v /tmp:/data:", "nothing follows the last ':'"])
        try Self.refused(["-v", "/tmp:/"], ["the container path cannot be '/'"])
        // What docker accepts still works.
        for request in try Self.requests(["-p", ":80", "-p", "127.0.0.1::81", "-v", "/tmp:/data:ro", "-e", "A=", "-l", "k="]) {
            let options = try request.runOptions()
            #expect(options.ports.map(\.containerPort) == [80, 81] && options.ports.allSatisfy { $0.hostPort == 0 })
            #expect(options.volumes == [VolumeMount(source: "/tmp", destination: "/data", readOnly: true)])
            #expect(options.environment == ["A="])
        }
    }
}

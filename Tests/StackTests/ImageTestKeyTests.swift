import Foundation
import Testing
@testable import Stack

/// The image `test:` key read by `stackship test`.
struct ImageTestKeyTests {
    @Test func parsesPortCommandAndTimeout() throws {
        try withStackDir { dir in
            let stack = try dir.parse("""
                images:
                  web:
                    test: {port: 80, command: [sh, -c, "curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/ping"], timeout: 12.5}
                  plain: {}
                """)
            let web = try stack.image(named: "web")
            #expect(web.test == ImageTestSpec(port: 80, command: ["sh", "-c", "curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/ping"], timeout: 12.5))
            #expect(try stack.image(named: "plain").test == nil)
        }
    }

    @Test func aStringCommandRunsWithShAndTimeoutDefaultsTo30() throws {
        try withStackDir { dir in
            let stack = try dir.parse("images:\n  web:\n    test:\n      port: 8080\n      command: curl -fsS localhost\n")
            let test = try #require(try stack.image(named: "web").test)
            #expect(test.command == ["/bin/sh", "-c", "curl -fsS localhost"])
            #expect(test.timeout == 30)
            #expect(test.port == 8080)
        }
    }

    @Test func aTypoInATestKeySuggestsTheClosest() throws {
        try withStackDir { dir in
            let error = dir.error("images:\n  web:\n    test:\n      prot: 80\n      command: [true]\n")
            check(error, line: 4, column: 7, message: "unknown key 'prot' in the test of image 'web'", hint: "did you mean 'port'?")
        }
    }

    @Test func aTypoInTheImageKeySuggestsTest() throws {
        try withStackDir { dir in
            let error = dir.error("images:\n  web:\n    tset: {port: 80, command: [true]}\n")
            check(error, line: 3, column: 5, message: "unknown key 'tset' in image 'web'", hint: "did you mean 'test'?")
        }
    }

    @Test func missingPortOrCommandAndBadValuesAreNamed() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  web:\n    test: {command: [true]}\n"), line: 3, column: 5,
                  message: "missing key 'port' in the test of image 'web'", hint: "port: 80")
            check(dir.error("images:\n  web:\n    test: {port: 80}\n"), line: 3, column: 5,
                  message: "missing key 'command' in the test of image 'web'")
            check(dir.error("images:\n  web:\n    test: {port: 70000, command: [true]}\n"), line: 3, column: 18,
                  message: "invalid test port '70000'")
            check(dir.error("images:\n  web:\n    test: {port: 80, command: [true], timeout: -1}\n"), line: 3, column: 48,
                  message: "invalid test timeout '-1'")
            check(dir.error("images:\n  web:\n    test: yes\n"), line: 3, column: 11,
                  message: "`test` must be a mapping with `port:` and `command:`")
        }
    }
}

import Testing
@testable import Dockerfile
@Test func placeholder() { #expect(Bool(true)) }

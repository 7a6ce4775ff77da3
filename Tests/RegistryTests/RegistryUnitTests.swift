import Foundation
import HTTPCore
import Testing
@testable import Registry

@Suite struct AuthChallengeTests {
    @Test func parsesBearerWithQuotedCommasAndEscapes() throws {
        let c = try #require(AuthChallenge(header: #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope""#))
        #expect(c.scheme == .bearer)
        #expect(c.realm == "https://auth.example.com/token")
        #expect(c.service == "registry.example.com")
        #expect(c.scope == "repository:a/b:pull,push repository:c:pull")
        #expect(c.isInsufficientScope)
        let escaped = try #require(AuthChallenge(header: #"Basic realm="say \"hi\"""#))
        #expect(escaped.scheme == .basic && escaped.realm == #"say "hi""#)
        let unquoted = try #require(AuthChallenge(header: "bearer realm=https://x/token, service=x"))
        #expect(unquoted.realm == "https://x/token" && unquoted.service == "x")
        #expect(AuthChallenge(header: "Negotiate abc") == nil)
    }

    @Test func scopesAreCanonical() {
        #expect(AuthScope.push("a/b").description == "repository:a/b:pull,push")
        #expect(AuthScope(repository: "x", actions: ["push", "pull"]) == .push("x"))
    }
}

@Suite struct RetryPolicyTests {
    @Test func backoffGrowsWithJitterAndIsCapped() {
        let p = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...8 {
            let d = p.delay(afterAttempt: attempt)
            let ceiling = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(1))
            #expect(d <= ceiling && d >= ceiling / 2, "attempt \(attempt): \(d)")
        }
        #expect(p.delay(afterAttempt: 1, retryAfter: .seconds(30)) == .seconds(1))
        #expect(p.delay(afterAttempt: 1, retryAfter: .milliseconds(300)) == .milliseconds(300))
    }

    @Test func retryAfterParsing() {
        #expect(RetryPolicy.parseRetryAfter("3") == .seconds(3))
        #expect(RetryPolicy.parseRetryAfter(" 0 ") == .seconds(0))
        #expect(RetryPolicy.parseRetryAfter(nil) == nil)
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
        let future = Date().addingTimeInterval(5)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let parsed = RetryPolicy.parseRetryAfter(f.string(from: future))
        #expect(parsed != nil && parsed! <= .seconds(6) && parsed! >= .seconds(3))
    }

    @Test func retryableStatuses() {
        for s in [408, 429, 500, 502, 503, 504] { #expect(RetryClassifier.standard.isTransient(status: s)) }
        for s in [200, 201, 400, 401, 403, 404, 416, 501] { #expect(!RetryClassifier.standard.isTransient(status: s)) }
    }
}

@Suite struct TransportOptionsTests {
    @Test func proxiesHonourNoProxyAndSkipLoopback() {
        let env = ["HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "internal.example.com,.corp, 10.1.2.3"]
        let o = TransportOptions(environment: env)
        #expect(o.proxy(for: "ghcr.io", https: true)! == ("proxy.internal", 3128))
        #expect(o.proxy(for: "registry.internal.example.com", https: true) == nil)
        #expect(o.proxy(for: "internal.example.com:5000", https: true) == nil)
        #expect(o.proxy(for: "x.corp", https: true) == nil)
        #expect(o.proxy(for: "10.1.2.3:5000", https: true) == nil)
        #expect(o.proxy(for: "localhost:5000", https: true) == nil)
        #expect(o.proxy(for: "127.0.0.1:5000", https: true) == nil)
        #expect(TransportOptions(environment: ["https_proxy": "proxy:8080", "no_proxy": "*"]).proxy(for: "ghcr.io", https: true) == nil)
        #expect(TransportOptions(environment: ["https_proxy": "proxy:8080"]).proxy(for: "ghcr.io", https: true)! == ("proxy", 8080))
        #expect(TransportOptions(environment: [:]).proxy(for: "ghcr.io", https: true) == nil)
    }

    @Test func loopbackHosts() {
        for h in ["localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "::1"] { #expect(TransportOptions.isLoopback(h), "\(h)") }
        for h in ["ghcr.io", "10.0.0.1:5000", "localhost.example.com", "128.0.0.1"] { #expect(!TransportOptions.isLoopback(h), "\(h)") }
    }
}

@Suite struct RegistryClientHelperTests {
    @Test func linkPagination() {
        #expect(RegistryClient.nextLink(#"</v2/a/tags/list?n=2&last=b>; rel="next""#) == "/v2/a/tags/list?n=2&last=b")
        #expect(RegistryClient.nextLink(#"<https://x/prev>; rel="prev", </v2/n?last=z>; rel="next""#) == "/v2/n?last=z")
        #expect(RegistryClient.nextLink(#"</v2/a>; rel="prev""#) == nil)
    }

    @Test func originsDecideWhetherCredentialsFollowARedirect() {
        #expect(URLOrigin("https://a.io/v2/x") == URLOrigin("https://a.io:443/other"))
        #expect(URLOrigin("HTTPS://A.io/v2/x") == URLOrigin("https://a.io/other"))
        #expect(URLOrigin("http://127.0.0.1:5000/v2") != URLOrigin("http://127.0.0.1:5001/v2"))
        #expect(URLOrigin("http://a.io/x") != URLOrigin("https://a.io/x"))
        #expect(URLOrigin("https://a.io/x") != URLOrigin("https://b.io/x"))
        #expect(URLOrigin("/v2/x") == nil && URLOrigin("file:///etc/passwd") == nil)
        #expect(RegistryClient.resolve("/v2/up/1?x=y", against: "http://h:1/v2/a/blobs/uploads/") == "http://h:1/v2/up/1?x=y")
        #expect(RegistryClient.resolve("https://s3/x", against: "http://h:1/v2/") == "https://s3/x")
    }
}

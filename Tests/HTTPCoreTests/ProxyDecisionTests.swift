import HTTPCore
import Testing

/// Which requests go through a proxy: one function, for every client.
@Suite struct ProxyDecisionTests {
    @Test func noProxyMatchesIPv6HostsInEveryForm() {
        let proxy = ["HTTPS_PROXY": "http://proxy.corp:3128", "HTTP_PROXY": "http://proxy.corp:3128"]
        for entry in ["[fd00::1]:5000", "[fd00::1]", "fd00::1", "FD00::1"] {
            let options = TransportOptions(environment: proxy.merging(["NO_PROXY": "example.com, \(entry)"]) { $1 })
            #expect(options.proxy(for: "[fd00::1]:5000", https: true) == nil, "NO_PROXY=\(entry)")
            #expect(options.proxy(for: "[fd00::1]:443", https: true) == nil, "NO_PROXY=\(entry)")
            #expect(options.proxy(for: "[fd00::2]:5000", https: true)?.host == "proxy.corp", "NO_PROXY=\(entry) names another host")
        }
        #expect(TransportOptions(environment: proxy).proxy(for: "[fd00::1]:5000", https: true)?.port == 3128)
        #expect(TransportOptions(environment: proxy).proxy(for: "[::1]:5000", https: true) == nil, "loopback is never proxied")
    }

    @Test func loopbackIsANumberOrLocalhostNotANameThatStartsLikeOne() {
        for host in ["localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "::1", "a.localhost"] {
            #expect(TransportOptions.isLoopback(host), "\(host)")
        }
        for host in ["127.example.com", "127.0.0.1.nip.io:80", "128.0.0.1", "ghcr.io", "[fd00::1]:5000"] {
            #expect(!TransportOptions.isLoopback(host), "\(host)")
        }
    }

    @Test func plainHTTPUsesHTTPProxyUnlessTheClientSaysOtherwise() {
        let env = ["HTTPS_PROXY": "http://secure.corp:3128"]
        #expect(TransportOptions(environment: env).proxy(for: "example.com", https: false) == nil)
        #expect(TransportOptions(environment: env, httpsProxyCarriesPlainHTTP: true).proxy(for: "example.com", https: false)?.host == "secure.corp")
        let both = ["HTTPS_PROXY": "http://secure.corp:3128", "HTTP_PROXY": "http://plain.corp:8080"]
        #expect(TransportOptions(environment: both).proxy(for: "example.com", https: false)?.host == "plain.corp")
        #expect(TransportOptions(environment: both).proxy(for: "example.com", https: true)?.host == "secure.corp")
    }
}

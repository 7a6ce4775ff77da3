import Foundation

extension ScriptedServer {
    /// A certificate and key a TLS `ScriptedServer` presents, and the authority a client must
    /// trust to accept it.
    public struct TLSIdentity: Sendable {
        /// The server's certificate (PEM).
        public var certificatePEM: String
        /// The server's private key (PEM, PKCS#8).
        public var privateKeyPEM: String
        /// The certificate authority that signed it (PEM): what a client's `--ca-cert` names.
        public var authorityPEM: String

        /// An identity from its parts.
        public init(certificatePEM: String, privateKeyPEM: String, authorityPEM: String) {
            self.certificatePEM = certificatePEM
            self.privateKeyPEM = privateKeyPEM
            self.authorityPEM = authorityPEM
        }

        /// A test-only identity for 127.0.0.1, ::1 and localhost, valid 2000-2100, signed by a
        /// test-only authority whose key was thrown away. Public on purpose: nothing but a test
        /// may trust it. (Made with `openssl ca`: P-256 keys, SHA-256 signatures.)
        public static let loopback = TLSIdentity(certificatePEM: """
            -----BEGIN CERTIFICATE-----
            MIIB0zCCAXmgAwIBAgICEAEwCgYIKoZIzj0EAwIwKzEpMCcGA1UEAwwgc3RhY2tz
            aGlwIFNjcmlwdGVkU2VydmVyIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEw
            MDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEG
            CCqGSM49AwEHA0IABF20p9bmEis81S329QzEnBpDH0YlzY7Pk5faGoIhK4vd/q0Z
            Kqx4/TjSfHaM5j+w2svKEVxtZZR/cnpf51aWAr+jgaEwgZ4wCQYDVR0TBAIwADAO
            BgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUHAwEwLAYDVR0RBCUwI4cE
            fwAAAYcQAAAAAAAAAAAAAAAAAAAAAYIJbG9jYWxob3N0MB8GA1UdIwQYMBaAFOvc
            PHGfdZ8yZ7sfWwpmukduRhQKMB0GA1UdDgQWBBT/7Jpg+GsyvwvXMBe2amKyJDj0
            MjAKBggqhkjOPQQDAgNIADBFAiEAzENlqky1qNkLb/Du4Yh1fKbQqFWAm+5FxVwQ
            jSnBcsECIDSqpSTplt9r4ybfC5BJeRPO5GdtY7AR7ZI1qmYJFQaG
            -----END CERTIFICATE-----
            """, privateKeyPEM: """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKuA6QEFGNPFpNRIt
            mdAYxAubswWA1s77i3Nce+pUG1+hRANCAARdtKfW5hIrPNUt9vUMxJwaQx9GJc2O
            z5OX2hqCISuL3f6tGSqseP040nx2jOY/sNrLyhFcbWWUf3J6X+dWlgK/
            -----END PRIVATE KEY-----
            """, authorityPEM: """
            -----BEGIN CERTIFICATE-----
            MIIBiTCCATCgAwIBAgICEAAwCgYIKoZIzj0EAwIwKzEpMCcGA1UEAwwgc3RhY2tz
            aGlwIFNjcmlwdGVkU2VydmVyIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEw
            MDAxMDEwMDAwMDBaMCsxKTAnBgNVBAMMIHN0YWNrc2hpcCBTY3JpcHRlZFNlcnZl
            ciB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQGo0ZmxW4kpzn3If
            KVhbwA8dtHn+SYy9Q0vY6oBD9qojdhHBTtAaTO/QExUfnDiZv87a0GKkSf3YcZVf
            qtjn2qNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0O
            BBYEFOvcPHGfdZ8yZ7sfWwpmukduRhQKMAoGCCqGSM49BAMCA0cAMEQCIDHjrmfO
            maHLuNnDDwqj/XdiZWnRlpGA5sDByRjWr9nrAiA8odXTJQIVzHCdoKBMdZgO0Ukl
            mgXvuyWIxuDAEPxkGg==
            -----END CERTIFICATE-----
            """)
    }
}

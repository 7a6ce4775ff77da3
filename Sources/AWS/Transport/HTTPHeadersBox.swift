import NIOHTTP1

/// Builds `HTTPHeaders` from a dictionary (sorted by name, for deterministic requests).
enum HTTPHeadersBox {
    static func make(_ values: [String: String]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in values.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        return headers
    }
}

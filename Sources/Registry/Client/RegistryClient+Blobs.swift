import Foundation
import HTTPCore
import NIOCore
import NIOHTTP1
import OCI

/// How a blob came to be in a repository.
public enum BlobUploadResult: Sendable, Equatable {
    /// The repository already had it (HEAD said so); nothing was sent.
    case existed
    /// Mounted from another repository of the same registry; nothing was sent.
    case mounted
    /// Its bytes were uploaded.
    case uploaded
}

extension RegistryClient {
    /// Blobs up to this size go up in one POST + PUT; larger ones stream in a PATCH, then PUT.
    public static let monolithicUploadLimit: Int64 = 4 << 20

    /// True if `repository` has the blob (HEAD).
    public func blobExists(_ repository: String, digest: Digest) async throws -> Bool {
        let path = "/v2/\(repository)/blobs/\(digest)"
        let response = try await send("check blob", method: .HEAD, path, scopes: [.pull(repository)], followRedirects: true)
        switch response.status {
        case .ok: return true
        case .notFound: return false
        default: throw await failure("check blob", response, url: path, repository: repository)
        }
    }

    /// Downloads a blob into `store`, hashing as it streams. An interrupted download resumes
    /// with a Range request; bytes that do not match the digest are discarded, so nothing
    /// corrupt ever lands in the store.
    public func fetchBlob(_ repository: String, descriptor: Descriptor, into store: ContentStore,
                          progress: @Sendable (Int64) -> Void = { _ in }) async throws {
        if store.contains(descriptor.digest) { return }
        let path = "/v2/\(repository)/blobs/\(descriptor.digest)"
        var writer = try store.ingest()
        var received: Int64 = 0
        var attempt = 0
        let policy = transport.options.retry
        while true {
            attempt += 1
            do {
                let headers = received > 0 ? [("Range", "bytes=\(received)-")] : []
                let response = try await send("fetch blob \(descriptor.digest)", path, scopes: [.pull(repository)], headers: headers, followRedirects: true)
                if received > 0 && response.status == .ok {
                    // The server ignored the range: start over.
                    writer.abort()
                    writer = try store.ingest()
                    received = 0
                } else if !(response.status == .ok || (received > 0 && response.status == .partialContent)) {
                    throw await failure("fetch blob", response, url: path, repository: repository, what: "blob \(descriptor.digest) in \(repository)")
                }
                for try await chunk in response.body {
                    received += Int64(chunk.readableBytes)
                    guard received <= descriptor.size else {
                        writer.abort()
                        throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: received, source: "\(registry)/\(repository)")
                    }
                    try chunk.withUnsafeReadableBytes { try writer.write($0) }
                    progress(received)
                }
                break
            } catch {
                guard HTTPError.isTransient(error), attempt < policy.maxAttempts else {
                    writer.abort()
                    throw error
                }
                try await Task.sleep(for: policy.delay(afterAttempt: attempt))
            }
        }
        guard received == descriptor.size else {
            writer.abort()
            throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: received, source: "\(registry)/\(repository)")
        }
        do {
            try writer.commit(expected: descriptor.digest)
        } catch let OCIError.digestMismatch(expected, actual, _) {
            throw OCIError.digestMismatch(expected: expected, actual: actual, source: "\(registry)/\(repository) (the registry served other bytes; nothing was stored)")
        }
    }

    /// Opens a blob's bytes as a stream (for registry-to-registry copies), from `offset` on.
    public func blobStream(_ repository: String, digest: Digest, offset: Int64 = 0, length: Int64? = nil) async throws -> HTTPBody {
        let path = "/v2/\(repository)/blobs/\(digest)"
        let range = offset > 0 || length != nil ? [("Range", "bytes=\(offset)-\(length.map { String(offset + $0 - 1) } ?? "")")] : []
        let response = try await send("fetch blob \(digest)", path, scopes: [.pull(repository)], headers: range, followRedirects: true)
        guard response.status == .ok || (!range.isEmpty && response.status == .partialContent) else {
            throw await failure("fetch blob", response, url: path, repository: repository, what: "blob \(digest) in \(repository)")
        }
        return response.body
    }

    /// Puts a blob in `repository`: nothing if it is there, a cross-repository mount when
    /// `mountFrom` names a repository of this registry that has it, else an upload of the bytes
    /// `body(offset, length)` gives (called again on retry, so it must replay).
    ///
    /// A failed upload is started again from scratch (after checking it did not in fact land),
    /// never continued blind: a half-sent PATCH may have left partial bytes in the session.
    public func uploadBlob(_ repository: String, descriptor: Descriptor, mountFrom: String? = nil, checkFirst: Bool = true,
                           body: @escaping @Sendable (_ offset: Int64, _ length: Int64) async throws -> HTTPRequestBody) async throws -> BlobUploadResult {
        if checkFirst, try await blobExists(repository, digest: descriptor.digest) { return .existed }
        let policy = transport.options.retry
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await uploadOnce(repository, descriptor: descriptor, mountFrom: attempt == 1 ? mountFrom : nil, body: body)
            } catch {
                let retryable: Bool
                if case let RegistryError.unexpectedStatus(_, _, status, _) = error {
                    retryable = transport.classifier.isTransient(status: status) || status == 400 || status == 404 || status == 416
                } else { retryable = HTTPError.isTransient(error) }
                guard retryable, attempt < policy.maxAttempts else { throw error }
                try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                if try await blobExists(repository, digest: descriptor.digest) { return .uploaded }
            }
        }
    }

    private func uploadOnce(_ repository: String, descriptor: Descriptor, mountFrom: String?,
                            body: @escaping @Sendable (Int64, Int64) async throws -> HTTPRequestBody) async throws -> BlobUploadResult {
        var start = "/v2/\(repository)/blobs/uploads/"
        var scopes: [AuthScope] = [.push(repository)]
        if let mountFrom, mountFrom != repository {
            start += "?mount=\(descriptor.digest)&from=\(mountFrom)"
            scopes.append(.pull(mountFrom))
        }
        let begin = try await send("start blob upload", method: .POST, start, scopes: scopes, headers: [("Content-Length", "0")])
        if begin.status == .created && mountFrom != nil {
            await begin.drain()
            return .mounted
        }
        guard begin.status == .accepted, var location = begin.headers.first(name: "Location") else {
            throw await failure("start blob upload", begin, url: start, repository: repository)
        }
        await begin.drain()
        location = Self.resolve(location, against: try await session.baseURL() + start)
        let minimumChunk = begin.headers.first(name: "OCI-Chunk-Min-Length").flatMap(Int64.init)
        let size = descriptor.size

        if minimumChunk == nil && size <= Self.monolithicUploadLimit {
            let payload = try await body(0, size)
            try await finishUpload(repository, location: location, digest: descriptor.digest, body: payload, length: size)
            return .uploaded
        }
        // Streamed (one PATCH), or chunked with Content-Range when the registry sets a minimum.
        let chunk = minimumChunk.map { max($0, 8 << 20) } ?? size
        var offset: Int64 = 0
        while offset < size {
            let length = min(chunk, size - offset)
            let payload = try await body(offset, length)
            var headers = [("Content-Type", "application/octet-stream"), ("Content-Length", "\(length)")]
            if minimumChunk != nil { headers.append(("Content-Range", "\(offset)-\(offset + length - 1)")) }
            let url = location
            let patch = try await sendOnce("upload blob \(descriptor.digest)", method: .PATCH, url, scopes: [.push(repository)], headers: headers) { payload }
            guard patch.status == .accepted || patch.status == .noContent, let next = patch.headers.first(name: "Location") else {
                throw await failure("upload blob", patch, url: "\(registry)/\(repository) upload", repository: repository)
            }
            await patch.drain()
            location = Self.resolve(next, against: location)
            offset += length
        }
        try await finishUpload(repository, location: location, digest: descriptor.digest, body: nil, length: 0)
        return .uploaded
    }

    private func finishUpload(_ repository: String, location: String, digest: Digest, body: HTTPRequestBody?, length: Int64) async throws {
        guard var components = URLComponents(string: location) else {
            throw RegistryError.badResponse(url: location, detail: "the upload location is not a URL")
        }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "digest", value: digest.description)]
        guard let url = components.string else { throw RegistryError.badResponse(url: location, detail: "cannot add the digest") }
        let headers = [("Content-Type", "application/octet-stream"), ("Content-Length", "\(length)")]
        let response = try await sendOnce("finish blob upload \(digest)", method: .PUT, url, scopes: [.push(repository)], headers: headers) { body ?? .bytes(ByteBuffer()) }
        guard response.status == .created || response.status == .noContent || response.status == .accepted else {
            throw await failure("finish blob upload", response, url: "\(registry)/\(repository) upload", repository: repository)
        }
        await response.drain()
    }

    /// `send` without transport retries (for requests whose body cannot be replayed safely). An
    /// upload location on another origin (a storage back end) gets no Authorization.
    func sendOnce(_ operation: String, method: HTTPMethod, _ url: String, scopes: [AuthScope], headers: [(String, String)],
                  body: @escaping @Sendable () throws -> HTTPRequestBody) async throws -> HTTPResponse {
        let authorization = try await session.authorization(for: scopes, sendingTo: url)
        return try await transport.registrySend(operation, retry: RetryPolicy.none) {
            var request = HTTPRequest(url: url, method: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            request.body = try body()
            return request
        }
    }

    /// Deletes a blob.
    public func deleteBlob(_ repository: String, digest: Digest) async throws {
        let path = "/v2/\(repository)/blobs/\(digest)"
        let response = try await send("delete blob", method: .DELETE, path, scopes: [AuthScope(repository: repository, actions: ["delete", "pull", "push"])])
        guard response.status == .accepted || response.status == .ok else {
            throw await failure("delete blob", response, url: path, repository: repository)
        }
    }
}

/// Something holding connections that must be closed with `shutdown()` once done with (the
/// registry and AWS clients: AsyncHTTPClient refuses to be dropped while running).
public protocol ShutdownClient: AnyObject, Sendable {
    func shutdown() async
}

extension ShutdownClient {
    /// Runs `body` with this client, then shuts it down, however `body` ends.
    @discardableResult
    public func withShutdown<T>(_ body: (Self) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Catches signals sent to this command and hands them to a handler (to pass on to a container).
final class SignalRelay: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]

    private init(signals: [Int32]) { self.signals = signals }

    static func start(signals: [Int32], _ handler: @escaping @Sendable (String) -> Void) -> SignalRelay {
        let relay = SignalRelay(signals: signals)
        // A parent may have started us with these blocked (Foundation's Process does): unblock
        // them, or they would stay pending and never reach the container.
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let names: [Int32: String] = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP", SIGQUIT: "SIGQUIT"]
        for s in signals {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            let name = names[s] ?? "\(s)"
            source.setEventHandler { handler(name) }
            source.resume()
            relay.sources.append(source)
        }
        return relay
    }

    func stop() {
        for s in sources { s.cancel() }
        for s in signals { signal(s, SIG_DFL) }
    }
}

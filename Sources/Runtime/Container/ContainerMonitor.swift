#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CRuntime
import OCI
import Support

/// The process that stays with a running container (as conmon or containerd-shim do): it
/// creates and starts it through the runtime, serves its published ports, reaps it as its
/// subreaper, records the exit, and tears down mounts and namespace afterwards.
///
/// The CLI forks it once the bundle is ready (`serve`). A multi-threaded process cannot fork and
/// go on, so there `run` starts `stackship _monitor` early instead (`run`), with descriptor 3 as
/// the pipe on which it reports the start (a ContainerStart line) or the failure, 4 as the pipe on which `run` says "go"
/// once the bundle is ready (EOF: nothing to do), and the published ports' listening sockets
/// as 5, 6, ...
public enum ContainerMonitor {
    /// `stdinFD`: the container's stdin (`run -i`), after the listening sockets.
    public static func run(engine: ContainerEngine, id: String, readyFD: Int32 = 3, goFD: Int32 = 4, listenerFDs: [Int32],
                           stdinFD: Int32? = nil) -> Int32 {
        signal(SIGHUP, SIG_IGN)
        // Wait for the bundle (run prepares it while this process loads).
        var word = [UInt8](repeating: 0, count: 3)
        var got = 0
        while got < 3 {
            let n = word.withUnsafeMutableBytes { read(goFD, $0.baseAddress! + got, 3 - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return 0 } // run gave up: nothing was started
            got += n
        }
        close(goFD)
        let state: ContainerState
        do { state = try engine.load(id) } catch {
            answer("\(error)", on: readyFD)
            return 1
        }
        return serve(engine: engine, state: state, readyFD: readyFD, listenerFDs: listenerFDs, stdinFD: stdinFD)
    }

    /// Starts the container of `state` (its bundle ready) and stays with it until it ends.
    static func serve(engine: ContainerEngine, state: ContainerState, readyFD: Int32, listenerFDs: [Int32], stdinFD: Int32? = nil) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        func report(_ text: String) { answer(text, on: readyFD) }
        guard stackship_set_subreaper() == 0 else {
            report("cannot become the container's subreaper: \(String(cString: strerror(errno)))")
            return 1
        }
        let id = state.id
        let dir = engine.directory(of: id)
        let runtime = engine.runtime(for: state)

        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let log = open(engine.logPath(of: id), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard null >= 0, log >= 0 else {
            report("cannot open the container log \(engine.logPath(of: id)): \(String(cString: strerror(errno)))")
            return 1
        }
        let runtimeLog = dir + "/runtime.log"
        // `run --detach` creates and starts in one runtime process; the container's init is then
        // reparented to this subreaper.
        // With -t, the runtime hands the terminal's master to `run` over the console socket; with
        // -i alone, the container's stdin is `run`'s own (handed to this process as stdinFD).
        let console = state.consoleSocket.map { ["--console-socket", $0] } ?? []
        let start = runtime.arguments(["--log", runtimeLog, "--log-format", "json", "run", "--detach", "--bundle", dir, "--pid-file", dir + "/pid"]
                                      + console + [id])
        var state = state
        let containerPID: pid_t
        let started: ContainerStart
        do {
            let (program, arguments) = runtime.launch(start)
            let starter = try ChildProcess.spawn(program, arguments, fds: [stdinFD ?? null, log, log])
            // The container has its own copy; this one would only keep a terminal or pipe open.
            if let stdinFD { close(stdinFD) }
            // Published ports: each listener relayed into the container's namespace, set up while
            // the runtime works (the kernel queues connections on the bound sockets meanwhile).
            var relayFailure: Error?
            for (fd, mapping) in zip(listenerFDs, state.ports) where relayFailure == nil {
                do { try PortForwarder.serve(listener: fd, namespace: engine.networkNamespace(of: state), containerPort: mapping.containerPort) } catch {
                    relayFailure = error
                }
            }
            let status = ChildProcess.wait(starter)
            if let relayFailure {
                report("\(relayFailure)")
                engine.tearDown(id: id, runtime: runtime)
                return 1
            }
            guard status == 0 else {
                report("\(runtime.name) could not start the container: \(runtimeError(runtimeLog))")
                engine.tearDown(id: id, runtime: runtime)
                return 1
            }
            guard let data = FileManager.default.contents(atPath: dir + "/pid"), let pid = Self.pid(data) else {
                report("\(runtime.name) started the container but wrote no pid file")
                engine.tearDown(id: id, runtime: runtime)
                return 1
            }
            containerPID = pid
            started = ContainerStart(pid: pid, monitorPid: getpid(), startedAt: Date())
            state.start(started)
            try engine.record(state)
        } catch {
            report("\(error)")
            engine.tearDown(id: id, runtime: runtime)
            return 1
        }
        report(started.word)

        // Reap every orphan that lands here; the container's own exit is the one that counts.
        var exitCode: Int32 = -1
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 {
                if errno == EINTR { continue }
                break // no children left
            }
            if pid == containerPID {
                exitCode = ChildProcess.exitCode(status)
                break
            }
        }
        close(log)
        engine.tearDown(id: id, runtime: runtime)
        if state.autoRemove {
            try? FileManager.default.removeItem(atPath: dir)
            return 0
        }
        state.status = .exited
        state.exitCode = exitCode
        state.finishedAt = Date()
        state.pid = nil
        try? engine.record(state)
        return 0
    }

    /// Writes the word `run` waits for (ContainerStart's line, or why not) and closes the pipe.
    private static func answer(_ text: String, on fd: Int32) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// The number in a pid file (runc writes no newline, crun may). Not `trimmingCharacters`:
    /// building the character set costs ~0.2 ms, between the container starting and `run` hearing so.
    static func pid(_ data: Data) -> pid_t? {
        var text = Substring(decoding: data, as: UTF8.self)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return pid_t(text).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The last error runc/crun logged (JSON lines with "level" and "msg").
    static func runtimeError(_ path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        var last: String?
        for line in text.split(separator: "\n") {
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let msg = object["msg"] as? String else { continue }
            if (object["level"] as? String) == "error" || last == nil { last = msg }
        }
        return last ?? OCIRuntime.message(text)
    }
}

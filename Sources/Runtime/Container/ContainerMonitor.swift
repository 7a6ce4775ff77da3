#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CRuntime
import OCI

/// The process that stays with a running container (as conmon or containerd-shim do): it
/// creates and starts it through the runtime, serves its published ports, reaps it as its
/// subreaper, records the exit, and tears down mounts and namespace afterwards. `run` starts
/// it with descriptor 3 as the pipe on which it reports "ok" or the failure, and the listening
/// sockets of the published ports as 4, 5, ...
public enum ContainerMonitor {
    public static func run(engine: ContainerEngine, id: String, readyFD: Int32 = 3, listenerFDs: [Int32]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        func report(_ text: String) {
            let line = text.hasSuffix("\n") ? text : text + "\n"
            _ = line.withCString { write(readyFD, $0, strlen($0)) }
            close(readyFD)
        }
        guard stackship_set_subreaper() == 0 else {
            report("cannot become the container's subreaper: \(String(cString: strerror(errno)))")
            return 1
        }
        let dir = engine.directory(of: id)
        let state: ContainerState
        do { state = try engine.load(id) } catch {
            report("\(error)")
            return 1
        }
        let runtime = engine.runtime(for: state)

        // Published ports: relay each listener into the container's namespace.
        for (fd, mapping) in zip(listenerFDs, state.ports) {
            do { try PortForwarder.serve(listener: fd, namespace: engine.networkNamespace(of: state), containerPort: mapping.containerPort) } catch {
                report("\(error)")
                return 1
            }
        }

        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let log = open(engine.logPath(of: id), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard null >= 0, log >= 0 else {
            report("cannot open the container log \(engine.logPath(of: id)): \(String(cString: strerror(errno)))")
            return 1
        }
        let runtimeLog = dir + "/runtime.log"
        let create = runtime.arguments(["--log", runtimeLog, "--log-format", "json", "create", "--bundle", dir, "--pid-file", dir + "/pid", id])
        let containerPID: pid_t
        do {
            let creator = try ChildProcess.spawn(runtime.executable, create, fds: [null, log, log])
            let status = ChildProcess.wait(creator)
            guard status == 0 else {
                report("\(runtime.name) could not create the container: \(runtimeError(runtimeLog))")
                engine.tearDown(id: id, runtime: runtime)
                return 1
            }
            guard let text = try? String(contentsOfFile: dir + "/pid", encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                report("\(runtime.name) created the container but wrote no pid file")
                engine.tearDown(id: id, runtime: runtime)
                return 1
            }
            containerPID = pid
            let starter = try ChildProcess.spawn(runtime.executable, runtime.arguments(["--log", runtimeLog, "--log-format", "json", "start", id]), fds: [null, log, log])
            guard ChildProcess.wait(starter) == 0 else {
                report("\(runtime.name) could not start the container: \(runtimeError(runtimeLog))")
                engine.tearDown(id: id, runtime: runtime)
                return 1
            }
            try engine.update(id) {
                $0.status = .running
                $0.pid = containerPID
                $0.monitorPid = getpid()
                $0.startedAt = Date()
            }
        } catch {
            report("\(error)")
            engine.tearDown(id: id, runtime: runtime)
            return 1
        }
        report("ok")

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
        _ = try? engine.update(id) {
            $0.status = .exited
            $0.exitCode = exitCode
            $0.finishedAt = Date()
            $0.pid = nil
        }
        return 0
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

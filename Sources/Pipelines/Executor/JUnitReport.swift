import Foundation
import Support

/// A run as JUnit XML: `<testsuites>` with one `<testsuite>` per job kind and one `<testcase>`
/// per job; a failed job holds a `<failure>` with its log tail, a skipped one `<skipped>`, a
/// cache hit `<skipped message="cache hit ...">`. All text is XML-escaped (control characters
/// from logs replaced), so CI test-report parsers accept it.
public enum JUnitReport {
    /// The XML document.
    public static func xml(_ report: ExecutionReport) -> String {
        let total = report.finished.timeIntervalSince(report.started)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(Escaping.xml(report.stackName))\" tests=\"\(report.results.count)\" failures=\"\(report.results(.failed).count)\" skipped=\"\(report.results(.skipped).count + report.results(.cacheHit).count)\" time=\"\(seconds(total))\">\n"
        let byKind = Dictionary(grouping: report.results, by: \.kind)
        for kind in Job.Kind.allCases {
            guard let results = byKind[kind] else { continue }
            let failures = results.filter { $0.status == .failed }.count
            let skipped = results.filter { $0.status == .skipped || $0.status == .cacheHit }.count
            let time = results.reduce(0) { $0 + $1.duration }
            out += "  <testsuite name=\"\(kind.rawValue)\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" time=\"\(seconds(time))\">\n"
            for r in results {
                let name = r.subject.map { "\(kind.rawValue) \($0)" } ?? r.id
                out += "    <testcase classname=\"\(Escaping.xml(report.stackName)).\(kind.rawValue)\" name=\"\(Escaping.xml(r.id))\" time=\"\(seconds(r.duration))\">"
                switch r.status {
                case .succeeded:
                    out += "</testcase>\n"
                case .failed:
                    out += "\n      <failure message=\"\(Escaping.xml(r.reason ?? "failed")): \(Escaping.xml(name))\" type=\"\(r.exitCode == nil ? "launch-or-signal" : "exit-status")\">\(Escaping.xml(r.logTail.joined(separator: "\n")))</failure>\n"
                    if let log = r.logFile { out += "      <system-out>log: \(Escaping.xml(log))</system-out>\n" }
                    out += "    </testcase>\n"
                case .skipped:
                    out += "\n      <skipped message=\"\(Escaping.xml(r.reason ?? "skipped"))\"/>\n    </testcase>\n"
                case .cacheHit:
                    out += "\n      <skipped message=\"cache hit: \(Escaping.xml(r.reason ?? ""))\"/>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func seconds(_ t: TimeInterval) -> String { String(format: "%.3f", t) }
}

import Foundation
import Support

/// A run as one self-contained HTML page: a timeline (one bar per job from start to end), cache
/// hits, durations, and failures with their log tails. All CSS and JavaScript are inline; every
/// value is escaped. The inline script builds the job index from data embedded in the page, so
/// a browser test can tell the page's script ran.
public enum HTMLReport {
    /// The page.
    public static func html(_ report: ExecutionReport) -> String {
        let t0 = report.started
        let total = max(report.finished.timeIntervalSince(t0), 0.001)
        var rows = ""
        for r in report.results {
            let left = r.start.map { max(0, $0.timeIntervalSince(t0)) / total * 100 } ?? 0
            let width = max(r.duration / total * 100, 0.4)
            let bar = r.start == nil ? "<span class=\"none\">not run</span>"
                : "<div class=\"bar \(r.status.rawValue)\" style=\"left:\(pct(left));width:\(pct(min(width, 100 - left)))\" title=\"\(Escaping.html(r.id)): \(String(format: "%.2f", r.duration)) s\"></div>"
            rows += "<tr class=\"\(r.status.rawValue)\" id=\"row-\(Escaping.html(r.id))\"><td><code>\(Escaping.html(r.id))</code></td><td>\(r.kind.rawValue)</td><td class=\"status\">\(label(r.status))</td><td class=\"num\">\(String(format: "%.2f", r.duration)) s</td><td class=\"lane\">\(bar)</td></tr>\n"
        }
        var failures = ""
        for r in report.results where r.status == .failed {
            failures += "<details open id=\"failure-\(Escaping.html(r.id))\"><summary><code>\(Escaping.html(r.id))</code>: \(Escaping.html(r.reason ?? "failed"))</summary>"
            if let log = r.logFile { failures += "<p>log: <code>\(Escaping.html(log))</code></p>" }
            failures += "<pre>\(Escaping.html(r.logTail.joined(separator: "\n")))</pre></details>\n"
        }
        var skipped = ""
        for r in report.results where r.status == .skipped {
            skipped += "<li><code>\(Escaping.html(r.id))</code>: \(Escaping.html(r.reason ?? ""))</li>\n"
        }
        let ids = report.results.map { "[\(Escaping.jsonInScript($0.id)),\(Escaping.jsonInScript($0.status.rawValue))]" }.joined(separator: ",")
        let counts = [JobResult.Status.succeeded, .failed, .skipped, .cacheHit].map { "\(label($0)): \(report.results($0).count)" }.joined(separator: " · ")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Run report: \(Escaping.html(report.stackName))</title>
        <style>
        body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#223}
        table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:3px 8px;text-align:left}
        td.num{text-align:right;white-space:nowrap}td.lane{position:relative;width:50%;min-width:300px}
        .bar{position:absolute;top:5px;height:12px;border-radius:3px}
        .bar.succeeded{background:#3a9a4a}.bar.failed{background:#d04030}
        tr.cacheHit td.status{color:#2a6fb0}tr.failed td.status{color:#d04030;font-weight:bold}tr.skipped{color:#889}
        .none{color:#aab;font-size:90%}pre{background:#f6f6f8;padding:8px;overflow:auto}
        #job-index li{display:inline-block;margin-right:1em}
        </style></head><body>
        <h1>Run report: \(Escaping.html(report.stackName))</h1>
        <p>\(counts) · wall time \(String(format: "%.2f", total)) s</p>
        <table><thead><tr><th>job</th><th>kind</th><th>status</th><th>duration</th><th>timeline</th></tr></thead><tbody>
        \(rows)</tbody></table>
        \(failures.isEmpty ? "" : "<h2>Failures</h2>\n\(failures)")
        \(skipped.isEmpty ? "" : "<h2>Skipped</h2><ul>\n\(skipped)</ul>")
        <h2>Jobs</h2><ul id="job-index"></ul>
        <script>
        (function () {
          var jobs = [\(ids)];
          var list = document.getElementById("job-index");
          jobs.forEach(function (j) {
            var li = document.createElement("li");
            li.setAttribute("data-job", j[0]);
            li.className = j[1];
            li.textContent = j[0] + " (" + j[1] + ")";
            list.appendChild(li);
          });
          list.setAttribute("data-rendered", "script");
        })();
        </script>
        </body></html>

        """
    }

    /// Writes the JUnit XML and the HTML page (`junit.xml`, `report.html`) under `folder`,
    /// atomically. - Returns: their paths.
    @discardableResult
    public static func writeReports(_ report: ExecutionReport, to folder: URL) throws -> (junit: URL, html: URL) {
        let junit = folder.appendingPathComponent("junit.xml")
        let html = folder.appendingPathComponent("report.html")
        try AtomicFile.write(Data(JUnitReport.xml(report).utf8), to: junit)
        try AtomicFile.write(Data(self.html(report).utf8), to: html)
        return (junit, html)
    }

    static func pct(_ v: Double) -> String { String(format: "%.2f%%", v) }

    static func label(_ s: JobResult.Status) -> String {
        switch s {
        case .succeeded: return "succeeded"
        case .failed: return "failed"
        case .skipped: return "skipped"
        case .cacheHit: return "cache hit"
        }
    }
}

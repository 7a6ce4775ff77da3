import Support

/// Renders a plan for people: text for `stackship plan`, and the graph as DOT, Mermaid or a
/// self-contained HTML page (inline SVG laid out here; no scripts, no network).
public enum PlanRenderer {
    /// The stages and their jobs with commands and needs, then the packages left out.
    public static func text(_ plan: Plan) -> String {
        let stats = Dictionary(grouping: plan.pruned, by: \.reason)
        var out = "Plan for stack '\(plan.stackName)' (\(plan.stackFile)): \(plan.jobs.count) job\(plan.jobs.count == 1 ? "" : "s") in \(plan.stageCount) stage\(plan.stageCount == 1 ? "" : "s")"
        out += "; \(stats[.cached]?.count ?? 0) package(s) from the cache, \(stats[.unchanged]?.count ?? 0) unchanged\n"
        var stage = -1
        for job in plan.jobs {
            if job.stage != stage {
                stage = job.stage
                out += "\nstage \(stage)\n"
            }
            out += "  \(job.id)  [\(job.kind.rawValue)]  \(Escaping.commandLine(job.argv))\n"
            if !job.needs.isEmpty { out += "      needs: \(job.needs.joined(separator: ", "))\n" }
        }
        if !plan.pruned.isEmpty {
            out += "\nnot built\n"
            for p in plan.pruned { out += "  \(p.name)  \(p.reason.rawValue)  \(p.hash)\n" }
        }
        return out
    }

    /// The graph in Graphviz DOT: one node per job (coloured by kind), an edge from each need.
    public static func dot(_ plan: Plan) -> String {
        var out = "digraph \(Escaping.dot(plan.stackName)) {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n"
        for job in plan.jobs {
            out += "  \(Escaping.dot(job.id)) [label=\(Escaping.dot(label(job))), fillcolor=\"\(color(job.kind))\"];\n"
        }
        for job in plan.jobs {
            for need in job.needs { out += "  \(Escaping.dot(need)) -> \(Escaping.dot(job.id));\n" }
        }
        return out + "}\n"
    }

    /// The graph as a Mermaid flowchart.
    public static func mermaid(_ plan: Plan) -> String {
        var out = "flowchart LR\n"
        for job in plan.jobs { out += "  \(job.id)[\"\(Escaping.mermaid(label(job)))\"]:::\(job.kind.rawValue)\n" }
        for job in plan.jobs { for need in job.needs { out += "  \(need) --> \(job.id)\n" } }
        for kind in Job.Kind.allCases { out += "  classDef \(kind.rawValue) fill:\(color(kind))\n" }
        return out
    }

    /// A self-contained HTML page: the DAG as inline SVG (one column per stage) and a table of
    /// jobs. Nothing is fetched; all style is inline.
    public static func html(_ plan: Plan) -> String {
        let colWidth = 260, boxWidth = 220, rowHeight = 40, boxHeight = 28, margin = 20
        var position: [String: (x: Int, y: Int)] = [:]
        var rowsInStage: [Int: Int] = [:]
        for job in plan.jobs {
            let row = rowsInStage[job.stage, default: 0]
            rowsInStage[job.stage] = row + 1
            position[job.id] = (margin + job.stage * colWidth, margin + row * rowHeight)
        }
        let width = margin * 2 + max(plan.stageCount, 1) * colWidth
        let height = margin * 2 + (rowsInStage.values.max() ?? 1) * rowHeight
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"job graph\">\n"
        for job in plan.jobs {
            let to = position[job.id]!
            for need in job.needs {
                let from = position[need]!
                let x1 = from.x + boxWidth, y1 = from.y + boxHeight / 2, x2 = to.x, y2 = to.y + boxHeight / 2
                let mid = (x1 + x2) / 2
                svg += "<path d=\"M\(x1),\(y1) C\(mid),\(y1) \(mid),\(y2) \(x2),\(y2)\" fill=\"none\" stroke=\"#889\" stroke-width=\"1\"/>\n"
            }
        }
        for job in plan.jobs {
            let p = position[job.id]!
            svg += "<g id=\"job-\(Escaping.html(job.id))\"><title>\(Escaping.html(Escaping.commandLine(job.argv)))</title>"
            svg += "<rect x=\"\(p.x)\" y=\"\(p.y)\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"6\" fill=\"\(color(job.kind))\" stroke=\"#445\"/>"
            svg += "<text x=\"\(p.x + 8)\" y=\"\(p.y + 18)\" font-family=\"Helvetica, sans-serif\" font-size=\"12\">\(Escaping.html(job.id))</text></g>\n"
        }
        svg += "</svg>"
        var rows = ""
        for job in plan.jobs {
            rows += "<tr><td>\(job.stage)</td><td><code>\(Escaping.html(job.id))</code></td><td>\(job.kind.rawValue)</td><td><code>\(Escaping.html(Escaping.commandLine(job.argv)))</code></td><td>\(Escaping.html(job.needs.joined(separator: ", ")))</td></tr>\n"
        }
        var pruned = ""
        for p in plan.pruned {
            pruned += "<li><code>\(Escaping.html(p.name))</code> \(p.reason.rawValue)</li>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Plan: \(Escaping.html(plan.stackName))</title>
        <style>body{font-family:Helvetica,sans-serif;margin:1.5em;color:#223}table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:3px 8px;text-align:left;vertical-align:top}.graph{overflow:auto;border:1px solid #ccd;margin:1em 0}</style>
        </head><body>
        <h1>Plan: \(Escaping.html(plan.stackName))</h1>
        <p>\(plan.jobs.count) jobs in \(plan.stageCount) stages; \(plan.pruned.count) packages not built.</p>
        <div class="graph">\(svg)</div>
        <table><thead><tr><th>stage</th><th>job</th><th>kind</th><th>command</th><th>needs</th></tr></thead><tbody>
        \(rows)</tbody></table>
        \(pruned.isEmpty ? "" : "<h2>Not built</h2><ul>\n\(pruned)</ul>")
        </body></html>

        """
    }

    static func label(_ job: Job) -> String {
        job.subject.map { "\(job.kind.rawValue) \($0)" } ?? job.id
    }

    static func color(_ kind: Job.Kind) -> String {
        switch kind {
        case .package: return "#cfe3ff"
        case .image: return "#d7f5d0"
        case .test: return "#fff0b3"
        case .publish: return "#ffd6cc"
        case .reindex, .cleanup: return "#e6e0f5"
        case .noop: return "#eeeeee"
        }
    }
}

import ArgumentParser
@testable import stackship
import Testing

/// `--format` read as docker's CLI reads it: fields, json, table with tabwriter's alignment,
/// and a refusal naming --json for the rest of Go's template language.
struct FormatTemplateTests {
    static let fields = FormatTemplate.Fields(names: [("ID", "CONTAINER ID"), ("Names", "NAMES"), ("Ports", "PORTS")], command: "ps")
    static let rows: [[String: String]] = [
        ["ID": "0123456789ab", "Names": "web", "Ports": "0.0.0.0:8090->80/tcp"],
        ["ID": "ba9876543210", "Names": "a-much-longer-name", "Ports": ""],
    ]

    @Test func fieldsWithAnySpacingAndTextAround() throws {
        let t = try FormatTemplate("{{.Names}}={{ .ID }} [{{- .Ports -}}]", fields: Self.fields)
        #expect(!t.table)
        #expect(t.output(Self.rows, fields: Self.fields) == "web=0123456789ab [0.0.0.0:8090->80/tcp]\na-much-longer-name=ba9876543210 []")
    }

    @Test func tableAlignsAsTabwriterWithDockersSettings() throws {
        let t = try FormatTemplate("table {{.ID}}\\t{{.Names}}\\t{{.Ports}}", fields: Self.fields)
        // Minimum width 10, padding 3: "CONTAINER ID" (12) + 3 = 15; NAMES column 18 + 3 = 21.
        #expect(t.output(Self.rows, fields: Self.fields) == """
            CONTAINER ID   NAMES                PORTS
            0123456789ab   web                  0.0.0.0:8090->80/tcp
            ba9876543210   a-much-longer-name   
            """)
        // Short cells still get the minimum width of 10.
        #expect(FormatTemplate.align(["a\tb", "c\td"]) == "a         b\nc         d")
        // `table` alone leaves the command's own columns.
        #expect(try FormatTemplate("table", fields: Self.fields).parts.isEmpty)
    }

    @Test func jsonWholeRowFieldAndTheJsonKeyword() throws {
        let whole = try FormatTemplate("{{json .}}", fields: Self.fields)
        #expect(whole.render(Self.rows[0], fields: Self.fields) == #"{"ID":"0123456789ab","Names":"web","Ports":"0.0.0.0:8090->80/tcp"}"#)
        #expect(try FormatTemplate("json", fields: Self.fields).parts == whole.parts)
        #expect(try FormatTemplate("{{json .Names}}", fields: Self.fields).render(["Names": "a\"b"], fields: Self.fields) == #""a\"b""#)
    }

    @Test func theRestOfGoTemplatesIsRefusedNamingJSON() {
        for text in ["{{.Names | upper}}", "{{range .}}{{end}}", "{{if .ID}}x{{end}}", "{{.Nope}}", "{{.ID", "{{lower .Names}}", "{{.}}"] {
            do {
                _ = try FormatTemplate(text, fields: Self.fields)
                Issue.record("\(text) was taken")
            } catch let error as ValidationError {
                #expect(error.message.contains("--json") && error.message.contains(".ID, .Names, .Ports"), "\(text): \(error.message)")
            } catch {
                Issue.record("\(text): \(error)")
            }
        }
    }
}

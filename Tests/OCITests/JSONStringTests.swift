import Foundation
import OCI
import Testing
import Support

struct JSONStringTests {
    @Test func literalsReadBackAsTheSameTextAndEscapeWhatYAMLAndHTMLNeed() throws {
        let tricky = "quote \" backslash \\ slash / tab\t nl\n cr\r bell\u{07} del\u{7F} nel\u{85} ls\u{2028} bom\u{FEFF} é 日本 </script>&"
        let literal = JSONString.literal(tricky)
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
        #expect(decoded == [tricky])
        #expect(literal.contains("\\u007f") && literal.contains("\\u0085") && literal.contains("\\u2028") && literal.contains("\\ufeff"))
        #expect(literal.contains("/") && literal.contains("é 日本"))
        #expect(literal.contains("</script>&"))
        let inScript = JSONString.literal(tricky, alsoEscaping: ["<", ">", "&"])
        #expect(!inScript.contains("<") && !inScript.contains(">") && !inScript.contains("&"))
        #expect(try JSONSerialization.jsonObject(with: Data("[\(inScript)]".utf8)) as? [String] == [tricky])
    }
}

struct JSONValueTests {
    @Test func documentsAreValidJSONInTheGivenOrderAndLeaveNilMembersOut() throws {
        let doc = JSONValue.members([
            ("z", .string("a \"quoted\" /path\n")), ("a", .int(-3)), ("big", .uint(UInt64.max)), ("on", .bool(true)),
            ("gone", nil), ("list", .strings(["x", "y"])), ("empty", .object([])), ("nothing", .null),
        ])
        #expect(doc.text == #"{"z":"a \"quoted\" /path\n","a":-3,"big":18446744073709551615,"on":true,"list":["x","y"],"empty":{},"nothing":null}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: doc.data) as? [String: Any])
        #expect(object["z"] as? String == "a \"quoted\" /path\n")
        #expect(object["gone"] == nil)
    }

    @Test func datesAreWrittenAsJSONEncodersISO8601Strategy() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        for seconds in [0.0, 1_795_000_000.75, 951_782_400] { // 1970, a fraction, 2000-02-29
            let date = Date(timeIntervalSince1970: seconds)
            let expected = String(decoding: try encoder.encode([date]), as: UTF8.self)
            #expect(JSONValue.array([.iso8601(date)]).text == expected)
        }
    }
}

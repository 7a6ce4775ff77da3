import Foundation
import OCI
import Testing

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

import Dockerfile
import Testing

/// Variable substitution as Docker's reference documents it ("Environment replacement").
@Suite struct ShellLexerTests {
    let lexer = ShellLexer()

    func expand(_ text: String, _ environment: [String: String] = [:]) throws -> String {
        try lexer.expand(text, environment: environment).text
    }

    func failure(_ text: String, _ environment: [String: String] = [:]) -> String? {
        do {
            _ = try lexer.expand(text, environment: environment)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func plainAndBracedReferences() throws {
        #expect(try expand("$foo ${foo}_bar", ["foo": "x"]) == "x x_bar")
        #expect(try expand("$unset|${unset}") == "|")
        #expect(try expand("$ 5$ $1abc") == "$ 5$ abc")
    }

    @Test func theModifiersDockerDocuments() throws {
        let set = ["v": "value", "empty": ""]
        #expect(try expand("${v:-word} ${empty:-word} ${unset:-word}", set) == "value word word")
        #expect(try expand("${v-word}|${empty-word}|${unset-word}", set) == "value||word")
        #expect(try expand("${v:+word}|${empty:+word}|${unset:+word}", set) == "word||")
        #expect(try expand("${v+word}|${empty+word}|${unset+word}", set) == "word|word|")
        // `word` may itself hold references.
        #expect(try expand("${unset:-$v/${v}}", set) == "value/value")
    }

    @Test func thePatternModifiersDockerDocuments() throws {
        let str = ["str": "foobarbaz"]
        #expect(try expand("${str#f*b}", str) == "arbaz")
        #expect(try expand("${str##f*b}", str) == "az")
        #expect(try expand("${str%b*}", str) == "foobar")
        #expect(try expand("${str%%b*}", str) == "foo")
        #expect(try expand("${str/ba/fo}", str) == "fooforbaz")
        #expect(try expand("${str//ba/fo}", str) == "fooforfoz")
        // `?` is one character; `\*` and `\?` are literal; `\/` protects the separator.
        #expect(try expand("${str#???}", str) == "barbaz")
        #expect(try expand("${v#\\*}", ["v": "*star"]) == "star")
        #expect(try expand("${p/\\//:}|${p//\\//:}", ["p": "a/b/c"]) == "a:b/c|a:b:c")
        #expect(try expand("${str#x*}", str) == "foobarbaz")
        #expect(failure("${str#\\x}", str)?.contains("invalid escape") == true)
    }

    @Test func escapesQuotesAndWords() throws {
        let env = ["foo": "bar", "ports": "80 443"]
        #expect(try expand("\\$foo \\${foo}", env) == "$foo ${foo}")
        #expect(try expand("'$foo' \"$foo\" \"\\$foo\" \"a\\b\"", env) == "$foo bar $foo a\\b")
        #expect(try lexer.expand("$ports \"$ports\" 'a b'", environment: env).words == ["80", "443", "80 443", "a b"])
        // Under `# escape=``, the backtick escapes and the backslash is an ordinary character.
        let backtick = ShellLexer(escape: "`")
        #expect(try backtick.expand("c:\\path `$foo", environment: env).text == "c:\\path $foo")
    }

    @Test func errorsNameTheProblem() {
        #expect(failure("${need:?set NEED first}") == "need: set NEED first")
        #expect(failure("${need?}") == "need: is not allowed to be unset")
        #expect(failure("${need:?}", ["need": ""]) == "need: is not allowed to be empty")
        #expect(failure("${need?}", ["need": ""]) == nil)
        #expect(failure("${a:=b}") == "unsupported modifier (:=) in substitution")
        #expect(failure("${a:#b}") == "unsupported modifier (:#) in substitution")
        #expect(failure("${}") == "syntax error: bad substitution")
        #expect(failure("${:a}") == "syntax error: bad substitution")
        #expect(failure("${a") == "syntax error: missing '}'")
        #expect(failure("${a:-b") == "syntax error: missing '}'")
        #expect(failure("${a/b") == "syntax error: missing '/' in ${}")
        #expect(failure("'open") == "unexpected end of statement while looking for matching single-quote")
        #expect(failure("\"open") == "unexpected end of statement while looking for matching double-quote")
    }

    @Test func matchedAndUnmatchedNamesAreReported() throws {
        let result = try lexer.expand("$a ${b:-x} $c", environment: ["a": "1", "c": "3"])
        #expect(result.matched == ["a", "c"])
        #expect(result.unmatched == ["b"])
    }

    @Test func skippingUnsetVariablesKeepsThemAsWritten() throws {
        var keeping = ShellLexer()
        keeping.skipUnsetVariables = true
        #expect(try keeping.expand("$a ${b} ${c:-d} ${e/f/g}", environment: [:]).text == "$a ${b} ${c:-d} ${e/f/g}")
    }
}

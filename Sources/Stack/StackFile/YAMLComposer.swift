import Foundation
import Yams

/// Turns YAML text into a node tree, turning libyaml's and Yams' errors into ``StackFileError``s.
///
/// First one pass over libyaml's events (``YAMLKeyScan``) finds what Yams would reject, in
/// file order: a syntax error anywhere wins; otherwise the first repeated key is reported at
/// its second use, naming the mapping as the reader does and where the key was first set.
/// Then Yams composes the tree. Yams compares keys after resolving their tags, so it can
/// only find a repeat the scan missed for keys that are not text (a list as a key); that
/// fallback points at the first use, which is all Yams tells.
struct YAMLComposer {
    let file: String

    /// The root node, nil for an empty document.
    func compose(_ yaml: String) throws -> Node? {
        switch YAMLKeyScan.scan(yaml) {
        case let .problem(problem):
            throw error(problem, text: yaml)
        case let .duplicate(duplicate):
            throw StackFileError(location: location(duplicate.second),
                                 message: "duplicate key '\(duplicate.key)' \(duplicate.path.context)",
                                 hint: "it is already set at \(location(duplicate.first)); remove one of them")
        case .clean:
            break
        }
        do {
            return try Yams.compose(yaml: yaml)
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            throw StackFileError(location: SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                                 message: "duplicate key '\(duplicates.first ?? "?")'",
                                 hint: "a key may appear only once in a mapping; this is its first use, remove or rename the other")
        } catch let error as YamlError {
            throw convert(error, text: yaml)
        } catch {
            throw StackFileError(location: SourceLocation(file: file, line: 1, column: 1), message: "invalid YAML: \(error)")
        }
    }

    func location(_ mark: YAMLKeyScan.Mark) -> SourceLocation {
        SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    /// The error for a problem the scan found.
    func error(_ problem: YAMLKeyScan.Problem, text: String) -> StackFileError {
        if let offset = problem.byteOffset {
            let prefix = String(decoding: text.utf8.prefix(offset), as: UTF8.self)
            let (line, column) = Self.position(ofCharacter: prefix.count, in: text)
            return StackFileError(location: SourceLocation(file: file, line: line, column: column),
                                  message: "invalid YAML: \(problem.problem)",
                                  hint: "remove the character, or save the file as UTF-8 text")
        }
        var message = "invalid YAML: \(problem.problem)"
        if let context = problem.context, let mark = problem.contextMark {
            message += " (\(context) at line \(mark.line), column \(mark.column))"
        }
        return StackFileError(location: location(problem.mark), message: message,
                              hint: hint(problem: problem.problem, line: problem.mark.line, column: problem.mark.column, text: text))
    }

    /// The error for a problem only Yams found (the scan finds every one Yams reports today;
    /// this keeps a later Yams honest).
    func convert(_ error: YamlError, text: String) -> StackFileError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return StackFileError(location: SourceLocation(file: file, line: mark.line, column: mark.column), message: message,
                                  hint: hint(problem: problem, line: mark.line, column: mark.column, text: text))
        case let .reader(problem, offset, _, _):
            let (line, column) = offset.map { Self.position(ofCharacter: $0, in: text) } ?? (1, 1)
            return StackFileError(location: SourceLocation(file: file, line: line, column: column),
                                  message: "invalid YAML: \(problem)",
                                  hint: "remove the character, or save the file as UTF-8 text")
        default:
            return StackFileError(location: SourceLocation(file: file, line: 1, column: 1), message: "invalid YAML: \(error)")
        }
    }

    /// The index of the scalar at 1-based `line`:`column`, counting line breaks as libyaml does.
    static func scalarIndex(line: Int, column: Int, in scalars: [Unicode.Scalar]) -> Int? {
        var currentLine = 1
        var i = 0
        while currentLine < line {
            guard i < scalars.count else { return nil }
            let c = scalars[i]
            if c == "\r" {
                if i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                currentLine += 1
            } else if c == "\n" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" {
                currentLine += 1
            }
            i += 1
        }
        let target = i + column - 1
        guard target <= scalars.count else { return nil }
        for j in i..<target where ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalars[j]) { return nil }
        return target
    }

    /// The 1-based line and column of the `offset`-th character.
    static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (i, character) in text.enumerated() {
            if i >= offset { break }
            if character.isNewline { line += 1; column = 1 } else { column += character.unicodeScalars.count }
        }
        return (line, column)
    }

    func hint(problem: String, line: Int, column: Int, text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        if let index = Self.scalarIndex(line: line, column: column, in: scalars) {
            var lineStart = index
            while lineStart > 0, !["\n", "\r"].contains(scalars[lineStart - 1]) { lineStart -= 1 }
            if scalars[lineStart..<min(index + 1, scalars.count)].contains("\t") {
                return "indent with spaces: YAML does not allow tabs for indentation"
            }
        }
        switch problem {
        case let p where p.contains("mapping values are not allowed"):
            return "quote values that contain ': ', or check that this key is not indented too far"
        case let p where p.contains("could not find expected ':'"):
            return "each key needs a ':' after it; check for a missing colon or an unclosed quote"
        case let p where p.contains("did not find expected key"):
            return "check the indentation: keys of the same mapping must line up"
        case let p where p.contains("did not find expected '-' indicator"):
            return "check the indentation: items of the same list must line up"
        case let p where p.contains("undefined alias"):
            return "define the anchor (&name) before using it (*name)"
        case let p where p.contains("another document"):
            return "a stack file holds a single YAML document; remove the extra '---'"
        case let p where p.contains("found character that cannot start any token"):
            return "quote values that start with '@' or '`'"
        default:
            return "check the indentation and quoting around this line"
        }
    }
}

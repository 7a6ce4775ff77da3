import CYaml
import Foundation

/// One pass over libyaml's events that finds the first repeated key of any mapping, in file
/// order, or the first problem that makes the text unreadable as one YAML document.
///
/// Yams rejects a repeated key while composing, but names only the key's *first* use and not
/// the mapping it is in. The scan records every mapping's keys with their marks and the path
/// to the mapping (``YAMLKeyPath``), so the repeat is reported at its second use, named as the
/// reader names that mapping. Keys compare as text: `1` and `"1"` are the same key here, as
/// they are once the reader reads them as strings.
///
/// A problem anywhere in the text wins over a repeat: libyaml's syntax errors, an alias to an
/// anchor not defined before it, and a second document (the three Yams would report too).
enum YAMLKeyScan {
    /// A 1-based position, columns counted in Unicode scalars as libyaml counts them.
    struct Mark: Hashable {
        var line: Int
        var column: Int

        init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }

        init(_ mark: yaml_mark_t) {
            line = Int(mark.line) + 1
            column = Int(mark.column) + 1
        }
    }

    /// A key used twice in one mapping.
    struct Duplicate: Hashable {
        var key: String
        var first: Mark
        var second: Mark
        var path: YAMLKeyPath
    }

    /// Why the text is not one readable YAML document.
    struct Problem: Hashable {
        /// libyaml's (or the composer's) words, such as "did not find expected key".
        var problem: String
        var mark: Mark
        /// What libyaml was reading, and where it started ("while parsing a block mapping").
        var context: String?
        var contextMark: Mark?
        /// For a reader error (bad bytes), the byte offset of the problem.
        var byteOffset: Int?
    }

    enum Outcome: Hashable {
        case clean
        case duplicate(Duplicate)
        case problem(Problem)
    }

    /// An open mapping or list while the events stream by.
    private struct Frame {
        var path: YAMLKeyPath
        var isMapping: Bool
        /// Whether this collection is itself a mapping key (a complex key).
        var isKey: Bool
        /// Mapping: each key's first use.
        var keys: [String: Mark] = [:]
        /// Mapping: the key whose value comes next; nil while a key is expected.
        var pendingKey: String?
        var expectingKey = true
        /// List: the position of the next item.
        var count = 0
    }

    /// Scans `yaml`; one pass, memory in the depth of nesting and the number of keys per mapping.
    static func scan(_ yaml: String) -> Outcome {
        var bytes = Array(yaml.utf8)
        let length = bytes.count
        bytes.append(0)  // a non-nil base address even for an empty text
        return bytes.withUnsafeBufferPointer { buffer -> Outcome in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return .problem(Problem(problem: "out of memory", mark: Mark(line: 1, column: 1)))
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, length)
            return run(&parser)
        }
    }

    private static func run(_ parser: inout yaml_parser_t) -> Outcome {
        var stack: [Frame] = []
        var anchors: [String: String?] = [:]  // anchor → the scalar it names (nil: a collection)
        var duplicate: Duplicate?
        var documents = 0

        /// Whether the node that starts now is a mapping key.
        func nextIsKey() -> Bool {
            guard let top = stack.last else { return false }
            return top.isMapping && top.expectingKey
        }

        /// The path of a collection that starts now (only collections need one: their keys are
        /// recorded under it).
        func childPath() -> YAMLKeyPath {
            guard let top = stack.last else { return YAMLKeyPath() }
            if top.isMapping { return top.path.appending(.key(top.expectingKey ? "?" : top.pendingKey ?? "?")) }
            return top.path.appending(.index(top.count))
        }

        /// A key (its text, or nil for a complex key) was read in the innermost mapping.
        func keyRead(_ key: String?, at mark: Mark) {
            guard !stack.isEmpty else { return }
            let i = stack.count - 1
            if let key {
                if let first = stack[i].keys[key] {
                    if duplicate == nil {
                        duplicate = Duplicate(key: key, first: first, second: mark, path: stack[i].path)
                    }
                } else {
                    stack[i].keys[key] = mark
                }
            }
            stack[i].pendingKey = key
            stack[i].expectingKey = false
        }

        /// A value (or list item) ended in the innermost collection.
        func valueRead() {
            guard !stack.isEmpty else { return }
            let i = stack.count - 1
            if stack[i].isMapping {
                stack[i].pendingKey = nil
                stack[i].expectingKey = true
            } else {
                stack[i].count += 1
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return .problem(problem(of: parser)) }
            defer { yaml_event_delete(&event) }
            let start = Mark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return duplicate.map { .duplicate($0) } ?? .clean
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    return .problem(Problem(problem: "but found another document", mark: start,
                                            context: "expected a single document in the stream", contextMark: Mark(line: 1, column: 1)))
                }
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                let isKey = nextIsKey()
                // Only keys and anchored scalars (which an alias may use as a key) need their text.
                let value = isKey || data.anchor != nil ? string(data.value, length: Int(data.length)) : ""
                if let anchor = data.anchor { anchors[string(anchor)] = .some(value) }
                if isKey { keyRead(value, at: start) } else { valueRead() }
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { string($0) } ?? ""
                guard let target = anchors[name] else {
                    return .problem(Problem(problem: "found undefined alias", mark: start))
                }
                if nextIsKey() { keyRead(target, at: start) } else { valueRead() }
            case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                if let anchor { anchors[string(anchor)] = .some(nil) }
                stack.append(Frame(path: childPath(), isMapping: isMapping, isKey: nextIsKey()))
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                guard let ended = stack.popLast() else { break }
                if ended.isKey { keyRead(nil, at: start) } else { valueRead() }
            default:
                break
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int? = nil) -> String {
        guard let pointer else { return "" }
        let count = length ?? Int(strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self)))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    private static func problem(of parser: yaml_parser_t) -> Problem {
        let text = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        var problem = Problem(problem: text, mark: Mark(parser.problem_mark))
        if let context = parser.context {
            problem.context = String(cString: context)
            problem.contextMark = Mark(parser.context_mark)
        }
        if parser.error == YAML_READER_ERROR { problem.byteOffset = Int(parser.problem_offset) }
        if parser.error == YAML_MEMORY_ERROR { problem.problem = "out of memory" }
        return problem
    }
}

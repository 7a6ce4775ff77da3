/// Variables in order, as a build stage holds them: names unique, a value set again keeping
/// its place (as Docker's image config keeps `Env` entries).
public struct BuildEnvironment: Sendable, Hashable, CustomStringConvertible {
    /// One `NAME=value`.
    public struct Variable: Sendable, Hashable {
        /// The name.
        public var name: String
        /// The value.
        public var value: String

        /// Creates a variable.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The variables in the order they were first set.
    public private(set) var variables: [Variable] = []

    /// An empty environment.
    public init() {}

    /// An environment from `NAME=value` strings (an OCI image config's `Env`); a string
    /// without `=` is a name with an empty value; later duplicates win.
    public init(list: [String]) {
        for entry in list {
            if let equals = entry.firstIndex(of: "=") {
                set(String(entry[..<equals]), to: String(entry[entry.index(after: equals)...]))
            } else {
                set(entry, to: "")
            }
        }
    }

    /// The value of `name`, or `nil` when unset.
    public subscript(name: String) -> String? {
        variables.last { $0.name == name }?.value
    }

    /// Sets `name`, replacing its value in place when it is already set.
    public mutating func set(_ name: String, to value: String) {
        if let index = variables.firstIndex(where: { $0.name == name }) {
            variables[index].value = value
        } else {
            variables.append(Variable(name: name, value: value))
        }
    }

    /// The names in order.
    public var names: [String] { variables.map(\.name) }

    /// `NAME=value` strings, the form of an OCI image config's `Env` and of a process environment.
    public var list: [String] { variables.map { $0.name + "=" + $0.value } }

    /// The variables as a dictionary.
    public var dictionary: [String: String] {
        Dictionary(variables.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// `NAME=value` strings separated by spaces.
    public var description: String { list.joined(separator: " ") }
}

import Foundation

/// A problem with the shape of the package graph.
public enum PackageGraphError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Packages that depend on each other in a loop, first package repeated at the end.
    case cycle([String])
    /// A dependency that names no package.
    case unknownPackage(String, neededBy: String)

    public var description: String {
        switch self {
        case let .cycle(path):
            return "dependency cycle: \(path.joined(separator: " → ")); remove one of these dependencies"
        case let .unknownPackage(name, neededBy):
            return "package '\(neededBy)' depends on '\(name)', which the stack does not define; add it under `packages:` or remove the dependency"
        }
    }
}

/// The packages of a stack as a dependency graph: a topological order, and the closures that
/// builds (everything needed to build) and images (everything needed to run) take.
public struct PackageGraph: Sendable {
    /// The packages by name.
    public let packages: [String: PackageSpec]
    /// Every package after all of its dependencies; ties keep file order, so the order is stable.
    public let order: [String]

    /// Builds the graph.
    ///
    /// - Throws: ``PackageGraphError/cycle(_:)`` naming the loop, or
    ///   ``PackageGraphError/unknownPackage(_:neededBy:)``.
    public init(_ specs: [PackageSpec]) throws {
        var byName: [String: PackageSpec] = [:]
        for spec in specs { byName[spec.name] = spec }
        for spec in specs {
            for dependency in spec.allDependencies where byName[dependency] == nil {
                throw PackageGraphError.unknownPackage(dependency, neededBy: spec.name)
            }
        }
        // Depth-first, in file order, so the order is deterministic and a cycle is reported as the
        // path that closes it.
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var order: [String] = []
        var stack: [String] = []
        func visit(_ name: String) throws {
            if state[name] == 2 { return }
            if state[name] == 1 {
                let start = stack.firstIndex(of: name)!
                throw PackageGraphError.cycle(Array(stack[start...]) + [name])
            }
            state[name] = 1
            stack.append(name)
            for dependency in byName[name]!.allDependencies { try visit(dependency) }
            stack.removeLast()
            state[name] = 2
            order.append(name)
        }
        for spec in specs { try visit(spec.name) }
        self.packages = byName
        self.order = order
    }

    /// `names` and everything they need to run (`depends_on`, transitively), in build order.
    public func runtimeClosure(of names: [String]) -> [String] {
        closure(of: names) { self.packages[$0]!.dependsOn }
    }

    /// Everything `name` needs at build time: its `depends_on` and `build_depends_on`, and what
    /// those need to run, in build order (not `name` itself).
    public func buildClosure(of name: String) -> [String] {
        let direct = packages[name]!.allDependencies
        return runtimeClosure(of: direct)
    }

    /// `names` and every package that depends on any of them, directly or not, in build order.
    public func dependents(of names: Set<String>) -> [String] {
        var affected = names
        for name in order where !affected.contains(name) {
            if packages[name]!.allDependencies.contains(where: affected.contains) { affected.insert(name) }
        }
        return order.filter(affected.contains)
    }

    /// The longest chain of dependencies below each package (0 for a package with none): its stage.
    public func depths() -> [String: Int] {
        var depth: [String: Int] = [:]
        for name in order {
            depth[name] = (packages[name]!.allDependencies.map { depth[$0]! + 1 }.max()) ?? 0
        }
        return depth
    }

    private func closure(of names: [String], next: (String) -> [String]) -> [String] {
        var seen = Set<String>()
        var pending = names
        while let name = pending.popLast() {
            if seen.insert(name).inserted { pending += next(name) }
        }
        return order.filter(seen.contains)
    }
}

/// Cycle finding shared by the package graph and the job graph.
enum GraphCycle {
    /// Returns one cycle (first name repeated at the end) in the graph given by `edges`
    /// (node → the nodes it depends on), or nil. Iterative, so deep chains cannot overflow the
    /// stack; nodes are visited in sorted order so the reported cycle is deterministic.
    static func find(nodes: [String], edges: [String: [String]]) -> [String]? {
        var state: [String: UInt8] = [:]  // 1 = on the path, 2 = done
        for root in nodes.sorted() where state[root] == nil {
            var path: [String] = [root]
            var iterators: [IndexingIterator<[String]>] = [(edges[root] ?? []).sorted().makeIterator()]
            state[root] = 1
            while !path.isEmpty {
                if let next = iterators[iterators.count - 1].next() {
                    switch state[next] {
                    case 1:
                        let start = path.firstIndex(of: next)!
                        return Array(path[start...]) + [next]
                    case 2:
                        continue
                    default:
                        state[next] = 1
                        path.append(next)
                        iterators.append((edges[next] ?? []).sorted().makeIterator())
                    }
                } else {
                    state[path.removeLast()] = 2
                    iterators.removeLast()
                }
            }
        }
        return nil
    }

    /// Topological order (dependencies first) of `nodes`; deterministic for a given node order. Nodes on a cycle are left out.
    static func order(nodes: [String], edges: [String: [String]]) -> [String] {
        var indegree: [String: Int] = [:]
        var dependents: [String: [String]] = [:]
        for n in nodes { indegree[n] = 0 }
        for n in nodes {
            for d in Set(edges[n] ?? []).sorted() where indegree[d] != nil {
                indegree[n, default: 0] += 1
                dependents[d, default: []].append(n)
            }
        }
        // FIFO from the sorted roots: deterministic without re-sorting (linear for big graphs).
        var queue = nodes.filter { indegree[$0] == 0 }.sorted()
        var head = 0
        while head < queue.count {
            let n = queue[head]
            head += 1
            for m in dependents[n] ?? [] {
                indegree[m]! -= 1
                if indegree[m] == 0 { queue.append(m) }
            }
        }
        let out = queue
        return out
    }
}

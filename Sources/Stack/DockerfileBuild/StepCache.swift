import Foundation
import OCI
import Support

/// The Dockerfile build cache: for each step that makes a layer (RUN, COPY, ADD, WORKDIR), what
/// it made, under a key of everything its result depends on: the parent chain (the chain ID of
/// the layers below), the instruction as expanded, the variables, user, directory and shell it
/// runs with, and the content digests of what it copies.
///
/// Records are small JSON files in `<store>/build-cache/`; the layers they name are blobs of
/// the store, kept by `stackship gc` while a record names them and deleted with the records by
/// `stackship gc --build-cache` (docker's `builder prune`).
public struct StepCache: Sendable {
    /// What a step made: its layer, or nothing (a step that changed no file).
    public struct Record: Codable, Sendable, Equatable {
        public var layer: Descriptor?
        public var diffID: Digest?
        public var entries: Int?
        /// The layer's uncompressed size.
        public var size: Int64?

        public init(layer: Descriptor? = nil, diffID: Digest? = nil, entries: Int? = nil, size: Int64? = nil) {
            self.layer = layer
            self.diffID = diffID
            self.entries = entries
            self.size = size
        }
    }

    public let directory: String

    public init(store: OCILayoutStore) {
        directory = store.root + "/build-cache"
    }

    /// The key of a step: the SHA-256 of its parts, one per line.
    public static func key(_ parts: [String]) -> Digest {
        Digest.compute(Data(parts.joined(separator: "\n").utf8))
    }

    private func path(_ key: Digest) -> String { directory + "/" + key.encoded + ".json" }

    /// The record for `key`, when there is one and the store still has its layer.
    public func lookup(_ key: Digest, in store: OCILayoutStore) -> Record? {
        guard let data = try? FileIO.readFile(path(key)),
              let record = try? JSONDecoder().decode(Record.self, from: data) else { return nil }
        if let layer = record.layer, !store.contains(layer.digest) { return nil }
        return record
    }

    /// Saves `record` under `key` (atomically: a reader sees the old record or the new).
    public func save(_ record: Record, for key: Digest) throws {
        try FileIO.makeDirectories(directory, mode: 0o755)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFileWriter.write(try encoder.encode(record), to: path(key), durable: false)
    }

    /// Every record.
    func records() -> [Record] {
        (FileIO.names(inDirectory: directory) ?? []).compactMap { name -> Record? in
            guard name.hasSuffix(".json"), let data = try? FileIO.readFile(directory + "/" + name) else { return nil }
            return try? JSONDecoder().decode(Record.self, from: data)
        }
    }

    /// The blobs the records keep (for `gc`).
    public func keptBlobs() -> [Digest] {
        records().compactMap { $0.layer?.digest }
    }

    /// Deletes every record (`gc --build-cache`); returns how many there were.
    @discardableResult
    public func removeAll(dryRun: Bool = false) -> Int {
        let names = (FileIO.names(inDirectory: directory) ?? []).filter { $0.hasSuffix(".json") }
        if !dryRun { try? FileIO.removeTree(directory) }
        return names.count
    }

    /// Collects the store's garbage keeping the layers the build cache records (every command
    /// that collects goes through here, so none drops a cached layer by accident); with
    /// `emptyingBuildCache`, first deletes the records and what Dockerfile builds keep under
    /// `runtime/build`. Returns the report and how many records were deleted.
    public static func collectGarbage(in store: OCILayoutStore, dryRun: Bool = false,
                                      emptyingBuildCache: Bool = false) throws -> (report: OCILayoutStore.GCReport, removedRecords: Int) {
        let cache = StepCache(store: store)
        var removed = 0
        let report = try store.gc(dryRun: dryRun, beforeCollecting: {
            // Under gc's lock: no build is writing records or layer directories.
            if emptyingBuildCache {
                removed = cache.removeAll(dryRun: dryRun)
                if !dryRun { try FileIO.removeTree(store.root + "/runtime/build") }
                return
            }
            // Unpacked layers no record names any more (their steps were rebuilt differently).
            let kept = Set(cache.records().compactMap { $0.diffID.map { $0.algorithm.rawValue + "-" + $0.encoded } })
            let layers = store.root + "/runtime/build/layers"
            if !dryRun {
                for name in FileIO.names(inDirectory: layers) ?? [] where !kept.contains(name) {
                    try? FileIO.removeTree(layers + "/" + name)
                }
            }
        }, keeping: { cache.keptBlobs() })
        return (report, removed)
    }
}

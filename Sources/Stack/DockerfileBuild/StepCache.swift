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

    /// The blobs the records keep (for `gc`).
    public func keptBlobs() -> [Digest] {
        (FileIO.names(inDirectory: directory) ?? []).compactMap { name -> Digest? in
            guard name.hasSuffix(".json"), let data = try? FileIO.readFile(directory + "/" + name),
                  let record = try? JSONDecoder().decode(Record.self, from: data) else { return nil }
            return record.layer?.digest
        }
    }

    /// Deletes every record (`gc --build-cache`); returns how many there were.
    @discardableResult
    public func removeAll(dryRun: Bool = false) -> Int {
        let names = (FileIO.names(inDirectory: directory) ?? []).filter { $0.hasSuffix(".json") }
        if !dryRun { try? FileIO.removeTree(directory) }
        return names.count
    }
}

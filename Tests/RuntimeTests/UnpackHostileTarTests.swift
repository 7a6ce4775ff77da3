import Foundation
import FuzzSupport
import OCI
import Testing
@testable import Runtime

/// The layers of issue 16's crash (a negative entry size, from PAX or GNU base-256) and the
/// owner that trapped `uid_t(...)` when unpacking as root: the unpacker stops with the tar
/// reader's one-line error naming the entry, and nothing outside the root changes.
@Suite struct UnpackHostileTarTests {
    static func layer(_ build: (inout RawTarArchive) -> Void) -> Data {
        var a = RawTarArchive()
        build(&a)
        return Data(a.finished())
    }

    static func refused(_ layer: Data, entry: String) throws -> String {
        let sandbox = try Sandbox()
        let before = try sandbox.outside()
        var caught: Error?
        do { try sandbox.unpack([layer]) } catch { caught = error }
        // The reader names the entry; the extractor adds the layer.
        guard case let .corruptLayer(layer, detail)? = caught as? OCIError else {
            Issue.record("not refused as a corrupt layer: \(String(describing: caught))")
            return ""
        }
        #expect(layer == "layer 0" && detail.contains("tar entry '\(entry)'"), "\(detail)")
        let reason = detail
        #expect(!(caught.map { "\($0)" } ?? "").contains("\n"))
        #expect(try sandbox.outside() == before)
        return reason
    }

    @Test func negativePAXSize() throws {
        let reason = try Self.refused(Self.layer {
            $0.appendPAX([("size", "-1")])
            $0.append(RawTarHeader(name: "evil", type: "0"))
        }, entry: "evil")
        #expect(reason.contains("size '-1'"), "\(reason)")
    }

    @Test func negativeBase256Size() throws {
        var h = RawTarHeader(name: "evil", type: "0", format: .gnu)
        h.set(.size, base256: -4096)
        h.fixChecksum()
        let reason = try Self.refused(Self.layer { $0.append(h) }, entry: "evil")
        #expect(reason.contains("negative"), "\(reason)")
    }

    @Test func ownerThatUidTCannotHold() throws {
        let reason = try Self.refused(Self.layer {
            $0.append(RawTarHeader(name: "fine", type: "0", size: 1), content: [1])
            $0.appendPAX([("uid", "4294967296")])
            $0.append(RawTarHeader(name: "owned", type: "0"))
        }, entry: "owned")
        #expect(reason.contains("uid 4294967296 is outside"), "\(reason)")
    }
}

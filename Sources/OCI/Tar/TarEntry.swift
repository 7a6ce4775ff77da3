/// One entry of a tar archive, as the writer emits it and the reader returns it.
public struct TarEntry: Sendable, Hashable {
    /// The kinds of entry stackship reads and writes.
    public enum Kind: UInt8, Sendable {
        case regular = 0x30        // '0'
        case hardlink = 0x31       // '1'
        case symlink = 0x32        // '2'
        case characterDevice = 0x33
        case blockDevice = 0x34
        case directory = 0x35
        case fifo = 0x36
    }

    /// Path inside the archive, relative, without a leading `/` or `./`; directories have no
    /// trailing slash here (the writer adds it).
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    public var mode: UInt32
    public var uid: Int = 0
    public var gid: Int = 0
    public var uname: String = ""
    public var gname: String = ""
    /// Seconds since the epoch.
    public var mtime: Int64 = 0
    /// Content size for regular files; 0 otherwise.
    public var size: Int64 = 0
    /// Target of a symlink, or the archive path a hardlink points to.
    public var linkTarget: String = ""
    public var deviceMajor: UInt32 = 0
    public var deviceMinor: UInt32 = 0
    /// PAX records other than the ones mapped to fields above (xattrs and the like), kept when read.
    public var extraPAXRecords: [String: String] = [:]

    public init(path: String, kind: Kind, mode: UInt32, size: Int64 = 0, linkTarget: String = "", mtime: Int64 = 0) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.size = size
        self.linkTarget = linkTarget
        self.mtime = mtime
    }
}

/// Orders archive paths depth first with siblings sorted by their bytes: comparing with `/`
/// ranked below every other byte puts a directory's contents right after it (`a`, `a/b`, `a-c`).
public func tarPathPrecedes(_ a: String, _ b: String) -> Bool {
    var ia = a.utf8.makeIterator()
    var ib = b.utf8.makeIterator()
    while true {
        switch (ia.next(), ib.next()) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case let (x?, y?):
            if x == y { continue }
            let rx: Int = x == UInt8(ascii: "/") ? -1 : Int(x)
            let ry: Int = y == UInt8(ascii: "/") ? -1 : Int(y)
            return rx < ry
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What an ELF64 little-endian file says about loading it: read from the ELF header, the
/// program headers (PT_INTERP, PT_DYNAMIC, PT_LOAD) and the dynamic section. Nothing is run
/// and no section headers are needed, so stripped binaries read fine.
///
/// Reads are bounded by the file's size and sanity limits, so a hostile file can make this
/// throw but not allocate without bound.
struct ELFFile: Sendable, Hashable {
    static let executableType: UInt16 = 2   // ET_EXEC
    static let sharedType: UInt16 = 3       // ET_DYN (shared libraries and PIE executables)

    /// `e_type`: ET_EXEC, ET_DYN, ...
    var type: UInt16
    /// `e_machine`: 62 for x86_64, 183 for aarch64, ...
    var machine: UInt16
    /// The program interpreter (PT_INTERP), such as /lib64/ld-linux-x86-64.so.2.
    var interpreter: String?
    /// DT_NEEDED, in order.
    var needed: [String] = []
    /// DT_SONAME.
    var soname: String?
    /// DT_RPATH, split at ':'. Empty when DT_RUNPATH is present, as ld.so ignores it then.
    var rpath: [String] = []
    /// DT_RUNPATH, split at ':'; nil when absent.
    var runpath: [String]?

    /// What the first bytes of a file are.
    enum Identity: Equatable {
        case elf64LittleEndian
        case notELF
        case unsupported(String)
    }

    /// Reads the file at `path`.
    ///
    /// - Throws: ``ELFDependencyError/notELF(path:)``, ``ELFDependencyError/unsupported(path:reason:)``,
    ///   ``ELFDependencyError/malformed(path:reason:)`` or ``ELFDependencyError/unreadable(path:errno:)``.
    init(path: String) throws {
        let reader = try Reader(path: path)
        defer { reader.close() }
        switch try reader.identity() {
        case .elf64LittleEndian: break
        case .notELF: throw ELFDependencyError.notELF(path: path)
        case let .unsupported(reason): throw ELFDependencyError.unsupported(path: path, reason: reason)
        }
        let header = try reader.bytes(at: 0, count: 64, what: "the ELF header")
        type = header.u16(16)
        machine = header.u16(18)
        let phoff = header.u64(32)
        let phentsize = Int(header.u16(54))
        var phnum = Int(header.u16(56))
        if phnum == 0xffff {  // PN_XNUM: the real count is in section header 0's sh_info
            let shoff = header.u64(40)
            phnum = Int(try reader.bytes(at: shoff, count: 64, what: "section header 0").u32(44))
        }
        guard phnum == 0 || phentsize >= 56 else {
            throw ELFDependencyError.malformed(path: path, reason: "program headers of \(phentsize) bytes, too small for ELF64")
        }

        var loads: [(vaddr: UInt64, offset: UInt64, size: UInt64)] = []
        var dynamic: (offset: UInt64, size: UInt64)?
        let table = try reader.bytes(at: phoff, count: phnum * phentsize, what: "the program headers")
        for i in 0..<phnum {
            let ph = table.slice(i * phentsize, 56)
            let offset = ph.u64(8), filesz = ph.u64(32)
            switch ph.u32(0) {
            case 1:  // PT_LOAD
                loads.append((ph.u64(16), offset, filesz))
            case 2:  // PT_DYNAMIC
                dynamic = (offset, filesz)
            case 3:  // PT_INTERP
                guard filesz <= 4096 else { throw ELFDependencyError.malformed(path: path, reason: "a PT_INTERP of \(filesz) bytes") }
                let text = try reader.bytes(at: offset, count: Int(filesz), what: "PT_INTERP")
                guard let interpreter = text.cString(at: 0), !interpreter.isEmpty else {
                    throw ELFDependencyError.malformed(path: path, reason: "an empty or unterminated PT_INTERP")
                }
                self.interpreter = interpreter
            default:
                break
            }
        }
        guard let dynamic, dynamic.size > 0 else { return }  // static: nothing to load

        guard dynamic.size <= 1 << 20 else { throw ELFDependencyError.malformed(path: path, reason: "a PT_DYNAMIC of \(dynamic.size) bytes") }
        let entries = try reader.bytes(at: dynamic.offset, count: Int(dynamic.size), what: "the dynamic section")
        var neededOffsets: [UInt64] = []
        var strtab: UInt64?, strsz: UInt64?, sonameOffset: UInt64?, rpathOffset: UInt64?, runpathOffset: UInt64?
        for i in 0..<(entries.count / 16) {
            let tag = entries.u64(i * 16), value = entries.u64(i * 16 + 8)
            switch tag {
            case 0: break                     // DT_NULL
            case 1: neededOffsets.append(value)  // DT_NEEDED
            case 5: strtab = value            // DT_STRTAB
            case 10: strsz = value            // DT_STRSZ
            case 14: sonameOffset = value     // DT_SONAME
            case 15: rpathOffset = value      // DT_RPATH
            case 29: runpathOffset = value    // DT_RUNPATH
            default: continue
            }
            if tag == 0 { break }
        }
        let wantsStrings = !neededOffsets.isEmpty || sonameOffset != nil || rpathOffset != nil || runpathOffset != nil
        guard wantsStrings else { return }
        guard let strtab else { throw ELFDependencyError.malformed(path: path, reason: "a dynamic section without DT_STRTAB") }
        // DT_STRTAB is a virtual address: find the loaded segment holding it.
        guard let segment = loads.first(where: { strtab >= $0.vaddr && strtab - $0.vaddr < $0.size }) else {
            throw ELFDependencyError.malformed(path: path, reason: "DT_STRTAB 0x\(String(strtab, radix: 16)) is outside every PT_LOAD segment")
        }
        let available = segment.size - (strtab - segment.vaddr)
        let size = min(strsz ?? available, available, 16 << 20)
        let strings = try reader.bytes(at: segment.offset + (strtab - segment.vaddr), count: Int(size), what: "the dynamic string table")
        func string(_ offset: UInt64) throws -> String {
            guard offset < UInt64(strings.count), let text = strings.cString(at: Int(offset)) else {
                throw ELFDependencyError.malformed(path: path, reason: "a dynamic string at \(offset), outside the string table")
            }
            return text
        }
        for offset in neededOffsets { needed.append(try string(offset)) }
        if let sonameOffset { soname = try string(sonameOffset) }
        if let runpathOffset {
            runpath = Self.searchList(try string(runpathOffset))
        } else if let rpathOffset {
            rpath = Self.searchList(try string(rpathOffset))
        }
    }

    /// An RPATH or RUNPATH value split into its directories (empty entries dropped).
    static func searchList(_ value: String) -> [String] {
        value.split(separator: ":").map(String.init)
    }

    /// Reads byte ranges of one open file with pread.
    private struct Reader {
        let path: String
        let fd: Int32
        let size: UInt64

        init(path: String) throws {
            self.path = path
            var fd: Int32
            repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
            guard fd >= 0 else { throw ELFDependencyError.unreadable(path: path, errno: errno) }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                let code = errno
                Glibc.close(fd)
                throw ELFDependencyError.unreadable(path: path, errno: code)
            }
            guard st.st_mode & S_IFMT == S_IFREG else {
                Glibc.close(fd)
                throw ELFDependencyError.notELF(path: path)
            }
            self.fd = fd
            self.size = UInt64(st.st_size)
        }

        func close() { Glibc.close(fd) }

        func identity() throws -> Identity {
            let ident = try bytes(at: 0, count: Int(min(size, 6)), what: "the ELF identification")
            guard ident.count >= 4, Array(ident.bytes[0..<4]) == [0x7f, 0x45, 0x4c, 0x46] else { return .notELF }
            guard ident.count == 6 else { return .unsupported("a truncated ELF file") }
            switch ident.bytes[4] {
            case 2: break
            case 1: return .unsupported("a 32-bit ELF file")
            default: return .unsupported("an ELF file of unknown class \(ident.bytes[4])")
            }
            guard ident.bytes[5] == 1 else { return .unsupported("a big-endian ELF file") }
            return .elf64LittleEndian
        }

        /// `count` bytes at `offset`; the whole range must be inside the file.
        func bytes(at offset: UInt64, count: Int, what: String) throws -> Bytes {
            let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
            guard count >= 0, !overflow, end <= size else {
                throw ELFDependencyError.malformed(path: path, reason: "\(what) at offset \(offset) (\(count) bytes) runs past the end of the file")
            }
            var buffer = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = buffer.withUnsafeMutableBytes { raw in
                    pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ELFDependencyError.unreadable(path: path, errno: errno)
                }
                if n == 0 { throw ELFDependencyError.malformed(path: path, reason: "\(what) is cut short") }
                done += n
            }
            return Bytes(bytes: buffer)
        }
    }

    /// Little-endian fields of a byte buffer; callers stay in bounds (sizes are checked on read).
    struct Bytes {
        var bytes: [UInt8]
        var count: Int { bytes.count }

        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        func slice(_ at: Int, _ length: Int) -> Bytes { Bytes(bytes: Array(bytes[at..<(at + length)])) }

        /// The NUL-terminated UTF-8 string at `at`; nil when no NUL follows it.
        func cString(at: Int) -> String? {
            guard at < bytes.count, let end = bytes[at...].firstIndex(of: 0) else { return nil }
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }
    }
}

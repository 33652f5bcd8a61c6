import Foundation

/// A whole file mapped into memory, read-only from Zoo's point of view. Tensors read from it
/// borrow its pages (no copy), so a file larger than RAM can be inspected and pages are read
/// only when a tensor's values are used. The mapping lives as long as any tensor over it.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    let base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FormatError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FormatError.io(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FormatError.io(path: path, reason: "not a regular file") }
        count = Int(st.st_size)
        if count == 0 { base = nil; return }
        // Private copy-on-write mapping: nothing written through it can reach the file.
        let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw FormatError.io(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))") }
        base = p
    }

    deinit { if let base { munmap(base, count) } }

    /// The bytes `offset ..< offset + length` (bounds checked by the caller).
    func pointer(at offset: Int) -> UnsafeMutableRawPointer { base! + offset }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// A bounds-checked little-endian cursor. Every read names the section it is reading so a
/// short or lying file produces an error with the offset of the problem.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, path: String, offset: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    func require(_ n: Int, _ section: String) throws {
        guard n >= 0, n <= remaining else {
            throw FormatError.truncated(path: path, offset: offset, section: section, needed: n, available: remaining)
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ section: String) throws -> T {
        try require(MemoryLayout<T>.size, section)
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func readFloat(_ section: String) throws -> Float { Float(bitPattern: try read(UInt32.self, section)) }
    mutating func readDouble(_ section: String) throws -> Double { Double(bitPattern: try read(UInt64.self, section)) }

    /// A count or length stored as u64 that must fit `limit` (and the bytes left in the file when
    /// each item takes at least `minItemSize` bytes) — so an absurd count fails before allocating.
    mutating func readCount(_ section: String, minItemSize: Int, limit: Int = Int(Int32.max)) throws -> Int {
        let at = offset
        let raw = try read(UInt64.self, section)
        guard raw <= UInt64(limit) else {
            throw FormatError.malformed(path: path, offset: at, reason: "\(section): count \(raw) exceeds the limit \(limit)")
        }
        let n = Int(raw)
        if minItemSize > 0, n > remaining / minItemSize {
            throw FormatError.truncated(path: path, offset: offset, section: section, needed: n * minItemSize, available: remaining)
        }
        return n
    }

    mutating func readBytes(_ n: Int, _ section: String) throws -> UnsafeRawBufferPointer {
        try require(n, section)
        let r = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])
        offset += n
        return r
    }

    mutating func readString(_ n: Int, _ section: String) throws -> String {
        let at = offset
        let b = try readBytes(n, section)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw FormatError.malformed(path: path, offset: at, reason: "\(section) is not valid UTF-8")
        }
        return s
    }
}

/// Writes a file by streaming into a temporary file next to the destination and renaming it
/// into place only when everything succeeded; on any error the temporary file is removed.
final class AtomicFileWriter {
    let path: String
    let tempPath: String
    private var handle: UnsafeMutablePointer<FILE>?
    private(set) var position: Int = 0
    private var committed = false

    init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        tempPath = (dir.isEmpty ? "." : dir) + "/.\(name).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        guard let f = fopen(tempPath, "wb") else {
            throw FormatError.io(path: path, reason: "cannot create \(tempPath): \(String(cString: strerror(errno)))")
        }
        handle = f
        setvbuf(f, nil, _IOFBF, 1 << 20)
    }

    deinit {
        if let handle { fclose(handle) }
        if !committed { unlink(tempPath) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        guard fwrite(bytes.baseAddress!, 1, bytes.count, handle) == bytes.count else {
            throw FormatError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
        position += bytes.count
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    func write(_ string: String) throws { try write(Array(string.utf8)) }
    func write<T: FixedWidthInteger>(_ v: T) throws { try withUnsafeBytes(of: v.littleEndian) { try write($0) } }
    func writeZeros(_ n: Int) throws { if n > 0 { try write([UInt8](repeating: 0, count: n)) } }

    /// Flushes, syncs and renames the temporary file onto the destination.
    func commit() throws {
        guard let f = handle else { return }
        handle = nil
        let ok = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard ok else { throw FormatError.io(path: path, reason: "flush failed: \(String(cString: strerror(errno)))") }
        guard rename(tempPath, path) == 0 else {
            throw FormatError.io(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        committed = true
    }
}

import CZip
import Engine
import Foundation

/// NumPy `.npz` archives (zip files of `.npy` members), stored or deflate-compressed, through libzip.
public enum NPZ {
    public enum Compression: Sendable { case stored, deflate }

    /// All arrays of the archive, by name (without the `.npy` suffix).
    public static func read(_ url: URL) throws -> [String: Tensor] {
        var err: Int32 = 0
        guard let archive = zip_open(url.path, ZIP_RDONLY | ZIP_CHECKCONS, &err) else {
            var ze = zip_error_t()
            zip_error_init_with_code(&ze, err)
            defer { zip_error_fini(&ze) }
            throw FormatError.io(path: url.path, reason: "not a readable zip archive: \(String(cString: zip_error_strerror(&ze)))")
        }
        defer { zip_discard(archive) }
        let n = zip_get_num_entries(archive, 0)
        var out: [String: Tensor] = [:]
        for i in 0 ..< max(0, n) {
            var st = zip_stat_t()
            guard zip_stat_index(archive, zip_uint64_t(i), 0, &st) == 0, let cname = st.name else {
                throw FormatError.malformed(path: url.path, offset: 0, reason: "zip entry \(i) cannot be read")
            }
            var name = String(cString: cname)
            if name.hasSuffix("/") { continue }
            guard st.size <= UInt64(1) << 40 else {
                throw FormatError.malformed(path: url.path, offset: 0, reason: "zip entry '\(name)' claims \(st.size) bytes")
            }
            guard let f = zip_fopen_index(archive, zip_uint64_t(i), 0) else {
                throw FormatError.malformed(path: url.path, offset: 0, reason: "zip entry '\(name)': \(String(cString: zip_strerror(archive)))")
            }
            let size = Int(st.size)
            let buffer = OwnedBytes(count: size)
            var got = 0
            while got < size {
                let r = zip_fread(f, buffer.pointer + got, zip_uint64_t(size - got))
                if r <= 0 { break }
                got += Int(r)
            }
            let readError = got < size ? String(cString: zip_file_strerror(f)) : nil
            zip_fclose(f)
            if let readError {
                throw FormatError.truncated(path: url.path, offset: 0, section: "zip entry '\(name)' (\(readError))", needed: size, available: got)
            }
            if name.hasSuffix(".npy") { name.removeLast(4) }
            out[name] = try NPY.parse(UnsafeRawBufferPointer(start: buffer.pointer, count: size), path: "\(url.path)[\(name)]", owner: buffer)
        }
        return out
    }

    /// Writes an archive atomically (arrays in name order).
    public static func write(_ tensors: [String: Tensor], to url: URL, compression: Compression = .stored) throws {
        let dir = url.deletingLastPathComponent().path
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        var err: Int32 = 0
        guard let archive = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err) else {
            throw FormatError.io(path: url.path, reason: "cannot create zip archive (libzip error \(err))")
        }
        var closed = false
        defer { if !closed { zip_discard(archive); unlink(tmp) } }
        // libzip reads the sources when the archive is closed: keep every buffer alive until then.
        var buffers: [[UInt8]] = []
        for name in tensors.keys.sorted() {
            buffers.append(NPY.encode(tensors[name]!))
        }
        for (name, bytes) in zip(tensors.keys.sorted(), buffers) {
            let source = bytes.withUnsafeBytes { zip_source_buffer(archive, $0.baseAddress, zip_uint64_t($0.count), 0) }
            guard let source else { throw FormatError.io(path: url.path, reason: "zip source: \(String(cString: zip_strerror(archive)))") }
            let idx = zip_file_add(archive, name + ".npy", source, zip_flags_t(ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8))
            guard idx >= 0 else {
                zip_source_free(source)
                throw FormatError.io(path: url.path, reason: "zip add '\(name)': \(String(cString: zip_strerror(archive)))")
            }
            let method: Int32 = compression == .stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE
            guard zip_set_file_compression(archive, zip_uint64_t(idx), method, 0) == 0 else {
                throw FormatError.io(path: url.path, reason: "zip compression: \(String(cString: zip_strerror(archive)))")
            }
        }
        let ok = withExtendedLifetime(buffers) { zip_close(archive) == 0 }
        guard ok else { throw FormatError.io(path: url.path, reason: "zip write: \(String(cString: zip_strerror(archive)))") }
        closed = true
        guard rename(tmp, url.path) == 0 else {
            unlink(tmp)
            throw FormatError.io(path: url.path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Heap bytes that a borrowing tensor keeps alive.
final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}

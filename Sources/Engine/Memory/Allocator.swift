import Foundation
import Synchronization

/// Raw host memory owned by one buffer. Blocks are recycled through a
/// size-bucketed cache so repeated evaluation does not pay for page faults.
final class Block: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let capacity: Int
    init(pointer: UnsafeMutableRawPointer, capacity: Int) {
        self.pointer = pointer
        self.capacity = capacity
    }
}

/// Storage that lives on an accelerator; implemented by backends.
public protocol DeviceAllocation: AnyObject, Sendable {
    /// Copies `count` bytes from the device copy into host memory.
    func download(to host: UnsafeMutableRawPointer, count: Int)
    /// Copies `count` bytes of host memory into the device copy.
    func upload(from host: UnsafeRawPointer, count: Int)
}

/// The memory behind one evaluated tensor (shared by its views).
/// It knows where its valid copy lives and moves data lazily.
public final class Buffer: @unchecked Sendable {
    let block: Block
    public let byteCount: Int
    /// Where the valid copies are. An inline lock: every evaluated node makes a buffer, and a
    /// lock object per buffer cost two allocations and their frees per node.
    private struct Residency {
        var hostValid = true
        var deviceCopy: DeviceAllocation?
        var deviceValid = false
    }
    private let residency = Mutex(Residency())
    /// Keeps borrowed memory (a memory-mapped file) alive; nil for allocator-owned blocks.
    private let owner: AnyObject?

    init(byteCount: Int) {
        self.byteCount = byteCount
        self.block = Allocator.shared.allocate(byteCount)
        self.owner = nil
    }

    /// Memory the engine does not own (for example a memory-mapped tensor file). It is never
    /// written by kernels — outputs always get fresh buffers — and is not counted in `Memory`.
    public init(borrowing pointer: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject) {
        self.byteCount = byteCount
        self.block = Block(pointer: pointer, capacity: byteCount)
        self.owner = owner
    }

    deinit { if owner == nil { Allocator.shared.release(block, byteCount: byteCount) } }

    /// Host pointer with valid contents (downloads from the device first if needed).
    public var host: UnsafeMutableRawPointer {
        residency.withLock { r in
            if !r.hostValid, let d = r.deviceCopy {
                d.download(to: block.pointer, count: byteCount)
                r.hostValid = true
            }
        }
        return block.pointer
    }

    /// Host pointer for writing the whole buffer; marks the device copy stale.
    public var hostForWriting: UnsafeMutableRawPointer {
        residency.withLock { r in
            r.hostValid = true
            r.deviceValid = false
        }
        return block.pointer
    }

    /// The device copy made valid (created and uploaded on first use).
    public func deviceAllocation<D: DeviceAllocation>(create: () -> D) -> D {
        residency.withLock { r in
            let d: D
            if let existing = r.deviceCopy as? D { d = existing } else { d = create(); r.deviceCopy = d; r.deviceValid = false }
            if !r.deviceValid {
                if r.hostValid { d.upload(from: block.pointer, count: byteCount) }
                r.deviceValid = true
            }
            return d
        }
    }

    /// Like `deviceAllocation(create:)` for a backend whose allocation can fail (device memory
    /// ran out): nil then, and nothing is remembered, so a later call tries again instead of
    /// leaving the buffer host-only for good.
    public func deviceAllocationIfPossible<D: DeviceAllocation>(create: () -> D?) -> D? {
        residency.withLock { r -> D? in
            let d: D
            if let existing = r.deviceCopy as? D {
                d = existing
            } else {
                guard let made = create() else { return nil }
                d = made; r.deviceCopy = d; r.deviceValid = false
            }
            if !r.deviceValid {
                if r.hostValid { d.upload(from: block.pointer, count: byteCount) }
                r.deviceValid = true
            }
            return d
        }
    }

    /// The device copy to be fully overwritten by a kernel; host copy becomes stale.
    public func deviceAllocationForWriting<D: DeviceAllocation>(create: () -> D) -> D {
        residency.withLock { r in
            let d: D
            if let existing = r.deviceCopy as? D { d = existing } else { d = create(); r.deviceCopy = d }
            r.deviceValid = true
            r.hostValid = false
            return d
        }
    }

    public var isOnDevice: Bool { residency.withLock { $0.deviceValid && !$0.hostValid } }
}

final class Allocator: @unchecked Sendable {
    static let shared = Allocator()
    private let lock = NSLock()
    /// Cached blocks by capacity: the power-of-two buckets up to 1 MiB in an array indexed by
    /// log2 (every evaluated node takes one and gives one back: no hashing), larger ones by size.
    private var small: [[Block]] = Array(repeating: [], count: Allocator.smallBuckets)
    private var free: [Int: [Block]] = [:]
    private static let smallBuckets = 21
    var active = 0
    var peak = 0
    var cached = 0
    var cacheLimit = Int.max
    var memoryLimit = Int.max

    /// Buckets: powers of two up to 1 MiB, then multiples of 1 MiB / 8 of the size
    /// so big tensors waste at most 12.5 %.
    static func bucket(_ n: Int) -> Int {
        let n = max(n, 16)
        if n <= 1 << 20 { return 1 << (Int.bitWidth - (n - 1).leadingZeroBitCount) }
        let high = 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
        let step = max(high / 8, 1 << 20)
        return (n + step - 1) / step * step
    }

    func allocate(_ bytes: Int) -> Block {
        let cap = Allocator.bucket(bytes)
        lock.lock()
        active += bytes
        if active > peak { peak = active }
        // Pop in place (copying the list out of the dictionary would copy it whole).
        if let b = cap <= 1 << 20 ? small[cap.trailingZeroBitCount].popLast() : free[cap]?.popLast() {
            cached -= cap
            lock.unlock()
            return b
        }
        lock.unlock()
        var p: UnsafeMutableRawPointer?
        let align = cap >= Allocator.hugePageThreshold ? Allocator.hugePageSize : 64
        let rc = posix_memalign(&p, align, cap)
        guard rc == 0, let ptr = p else {
            // Free the cache and retry once before giving up.
            clearCache()
            let rc2 = posix_memalign(&p, align, cap)
            guard rc2 == 0, let ptr2 = p else { fatalError("Engine: out of memory allocating \(bytes) bytes") }
            return Block(pointer: Allocator.adviseHugePages(ptr2, cap), capacity: cap)
        }
        return Block(pointer: Allocator.adviseHugePages(ptr, cap), capacity: cap)
    }

    /// Blocks from this size up are 2 MiB-aligned and backed by transparent huge pages where
    /// the kernel offers them on request (`madvise` mode): streaming kernels and weight reads
    /// then miss the TLB 512× less often and the hardware prefetchers are not stopped at every
    /// 4 KiB page boundary.
    static let hugePageThreshold = 4 << 20
    static let hugePageSize = 2 << 20

    static func adviseHugePages(_ p: UnsafeMutableRawPointer, _ bytes: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        if bytes >= hugePageThreshold { _ = madvise(p, bytes, MADV_HUGEPAGE) }
        #endif
        return p
    }

    func release(_ block: Block, byteCount: Int) {
        lock.lock()
        active -= byteCount
        if cached + block.capacity <= cacheLimit {
            if block.capacity <= 1 << 20 { small[block.capacity.trailingZeroBitCount].append(block) }
            else { free[block.capacity, default: []].append(block) }
            cached += block.capacity
            lock.unlock()
        } else {
            lock.unlock()
            Foundation.free(block.pointer)
        }
    }

    func clearCache() {
        lock.lock()
        let all = free.values.flatMap { $0 } + small.flatMap { $0 }
        free.removeAll()
        small = Array(repeating: [], count: Allocator.smallBuckets)
        cached = 0
        lock.unlock()
        for b in all { Foundation.free(b.pointer) }
    }

    func trim(to limit: Int) {
        lock.lock()
        var toFree: [Block] = []
        while cached > limit, let key = free.keys.max() {
            if let b = free[key]?.popLast() { toFree.append(b); cached -= b.capacity }
            if free[key]?.isEmpty == true { free[key] = nil }
        }
        for i in small.indices.reversed() where cached > limit {
            while cached > limit, let b = small[i].popLast() { toFree.append(b); cached -= b.capacity }
        }
        lock.unlock()
        for b in toFree { Foundation.free(b.pointer) }
    }
}

/// Memory statistics and limits (bytes).
public enum Memory {
    /// Bytes held by live buffers (tensors with data).
    public static var activeBytes: Int { Allocator.shared.withLock { $0.active } }
    /// Largest `activeBytes` since start or `resetPeak()`.
    public static var peakBytes: Int { Allocator.shared.withLock { $0.peak } }
    /// Bytes kept in the buffer cache for reuse.
    public static var cacheBytes: Int { Allocator.shared.withLock { $0.cached } }
    public static var cacheLimit: Int {
        get { Allocator.shared.withLock { $0.cacheLimit } }
        set { Allocator.shared.withLock { $0.cacheLimit = newValue }; Allocator.shared.trim(to: newValue) }
    }
    /// Advisory limit: evaluation throws `EngineError.outOfMemory` past it inside `withError`.
    public static var memoryLimit: Int {
        get { Allocator.shared.withLock { $0.memoryLimit } }
        set { Allocator.shared.withLock { $0.memoryLimit = newValue } }
    }
    public static func clearCache() { Allocator.shared.clearCache() }
    public static func resetPeak() { Allocator.shared.withLock { $0.peak = $0.active } }
}

extension Allocator {
    func withLock<R>(_ body: (Allocator) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body(self)
    }
}

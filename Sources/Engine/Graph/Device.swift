import Foundation
import Synchronization

/// Where primitives run. `.cpu` always exists; `.gpu` is the Vulkan device when one is present.
public struct Device: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case cpu, gpu }
    public let kind: Kind
    public let index: Int

    public init(_ kind: Kind, index: Int = 0) { self.kind = kind; self.index = index }

    public static let cpu = Device(.cpu)
    public static let gpu = Device(.gpu)

    /// True when a backend for this device can run work (the CPU always can).
    public var isAvailable: Bool {
        switch kind {
        case .cpu: return true
        case .gpu: return Backends.gpu != nil
        }
    }

    /// A human-readable name of the hardware behind the device.
    public var info: String {
        switch kind {
        case .cpu: return "cpu (\(ProcessInfo.processInfo.activeProcessorCount) cores, OpenBLAS)"
        case .gpu: return Backends.gpu?.deviceName ?? "no Vulkan device"
        }
    }

    public var description: String { kind == .cpu ? "Device(cpu, \(index))" : "Device(gpu, \(index))" }

    /// The default device for ops created outside `withDevice`.
    public static func setDefault(_ device: Device) { DefaultDevice.global.set(device) }

    /// The device new ops use in the current context.
    public static var defaultDevice: Device { DefaultDevice.current ?? DefaultDevice.global.get() }
}

enum DefaultDevice {
    @TaskLocal static var current: Device?
    final class Global: @unchecked Sendable {
        private let lock = NSLock()
        private var device = Device.cpu
        func get() -> Device { lock.lock(); defer { lock.unlock() }; return device }
        func set(_ d: Device) { lock.lock(); device = d; lock.unlock() }
    }
    static let global = Global()
}

/// Runs `body` with `device` as the default device (task-local: other tasks are unaffected).
public func withDevice<R>(_ device: Device, _ body: () throws -> R) rethrows -> R {
    TaskScopes.used.store(true, ordering: .relaxed)
    return try DefaultDevice.$current.withValue(device, operation: body)
}

public func withDevice<R>(_ device: Device, _ body: () async throws -> R) async rethrows -> R {
    TaskScopes.used.store(true, ordering: .relaxed)
    return try await DefaultDevice.$current.withValue(device, operation: body)
}

/// Whether any task-local device or stream scope was ever entered. Until one is, new ops
/// skip the two task-local lookups (a decode step creates hundreds of nodes). A scope sets
/// the flag on its own thread before its body runs, so the body always sees it.
enum TaskScopes {
    static let used = Atomic<Bool>(false)
}

/// A queue of work on one device. Work on different streams may overlap;
/// dependencies between streams are honoured by the scheduler.
public final class Stream: @unchecked Sendable, Hashable, CustomStringConvertible {
    public let device: Device
    public let index: Int
    let queue: DispatchQueue
    let lock = NSLock()

    private static let counter = Counter()
    public init(_ device: Device) {
        self.device = device
        self.index = Stream.counter.next()
        self.queue = DispatchQueue(label: "zoo.stream.\(index)", qos: .userInitiated)
    }

    public static func == (a: Stream, b: Stream) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
    public var description: String { "Stream(\(device), \(index))" }

    /// The default stream of a device.
    public static func defaultStream(_ device: Device) -> Stream {
        device.kind == .cpu ? cpuDefault : gpuDefault
    }
    static let cpuDefault = Stream(.cpu)
    static let gpuDefault = Stream(.gpu)

    final class Counter: @unchecked Sendable {
        private let lock = NSLock(); private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value - 1 }
    }
}

enum DefaultStream {
    @TaskLocal static var current: Stream?
}

/// Runs `body` with new ops placed on `stream`.
public func withStream<R>(_ stream: Stream, _ body: () throws -> R) rethrows -> R {
    TaskScopes.used.store(true, ordering: .relaxed)
    return try DefaultStream.$current.withValue(stream) {
        try DefaultDevice.$current.withValue(stream.device, operation: body)
    }
}

/// The stream new ops go to: the task-local stream, else the default device's stream.
/// A GPU request without a GPU falls back to the CPU.
func currentStream() -> Stream {
    let scoped = TaskScopes.used.load(ordering: .relaxed)
    if scoped, let s = DefaultStream.current { return s }
    let d = scoped ? Device.defaultDevice : DefaultDevice.global.get()
    if d.kind == .gpu && !d.isAvailable { return Stream.cpuDefault }
    return Stream.defaultStream(d)
}

import Engine

/// Keys and values of past positions for one attention layer ([B, H, T, D]).
public protocol KVCache: AnyObject {
    /// Positions seen so far (the RoPE offset of the next token).
    var offset: Int { get }
    /// Appends new keys/values and returns everything attention should see.
    func update(keys: Tensor, values: Tensor) -> (Tensor, Tensor)
    var state: [Tensor] { get }
}

/// Grows in steps of `step` positions; new positions are written into the preallocated tail.
public final class StandardKVCache: KVCache {
    public private(set) var offset = 0
    var keys: Tensor?, values: Tensor?
    let step: Int

    let keyStorage: AppendStorage, valueStorage: AppendStorage

    public init(step: Int = 256) {
        self.step = step
        keyStorage = AppendStorage(step: step)
        valueStorage = AppendStorage(step: step)
    }

    public func update(keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        // Written in place after the positions already cached (no copy of the whole cache).
        keys = appending(k, to: keys, axis: 2, storage: keyStorage)
        values = appending(v, to: values, axis: 2, storage: valueStorage)
        offset += k.dim(2)
        return (keys!, values!)
    }

    public var state: [Tensor] { [keys, values].compactMap { $0 } }
}

/// Keeps the first `keep` positions (the prompt's start) and the most recent ones, up to
/// `maxSize` in all, for chats longer than memory allows. Positions keep their RoPE phases.
public final class RotatingKVCache: KVCache {
    public private(set) var offset = 0
    var keys: Tensor?, values: Tensor?
    public let maxSize: Int, keep: Int

    public init(maxSize: Int, keep: Int = 4) {
        self.maxSize = max(maxSize, keep + 1)
        self.keep = keep
    }

    public func update(keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        var K = keys.map { concatenated([$0, k], axis: 2) } ?? k
        var V = values.map { concatenated([$0, v], axis: 2) } ?? v
        offset += k.dim(2)
        let all = K.dim(2)
        let result = (K, V)
        if all > maxSize {
            // Attention of this step sees everything; the stored cache drops the oldest middle.
            let recent = maxSize - keep
            K = concatenated([K[0..., 0..., ..<keep, 0...], K[0..., 0..., (all - recent)..., 0...]], axis: 2)
            V = concatenated([V[0..., 0..., ..<keep, 0...], V[0..., 0..., (all - recent)..., 0...]], axis: 2)
        }
        keys = K
        values = V
        return result
    }

    public var state: [Tensor] { [keys, values].compactMap { $0 } }
}

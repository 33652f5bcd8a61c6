import Engine

/// A causal language model Zoo can generate text with.
public protocol LanguageModel: AnyObject, Sendable {
    var vocabularySize: Int { get }
    var contextLength: Int { get }
    /// Weights, for `eval` and memory accounting.
    var parameters: [Tensor] { get }
    /// One cache per layer; a rotating cache when `maxSize` is given.
    func newCache(maxSize: Int?, keep: Int) -> [KVCache]
    /// Logits [B, L, vocabulary] for ids [B, L]; with `lastOnly`, [B, 1, vocabulary].
    func callAsFunction(_ tokens: Tensor, cache: [KVCache], lastOnly: Bool) -> Tensor
}

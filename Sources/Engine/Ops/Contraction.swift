import Foundation

// Tensor contractions and diagonals built on matmul, views and gathers:
// tensordot, inner, outer, kron, diagonal, diag, trace, einsum.

/// Sum over `axesA` of a and `axesB` of b (paired in order).
public func tensordot(_ a: Tensor, _ b: Tensor, axesA: [Int], axesB: [Int]) -> Tensor {
    let op = "tensordot"
    guard check(axesA.count == axesB.count, op, "axes \(axesA) and \(axesB) differ in length"),
          let aa = normalizeAxes(axesA, a.ndim, op), let bb = normalizeAxes(axesB, b.ndim, op)
    else { return .errorPlaceholder(promoteTypes(a.dtype, b.dtype)) }
    for (i, j) in zip(aa, bb) {
        guard check(a.shape[i] == b.shape[j], op, "axis \(i) of a \(fmt(a.shape)) and axis \(j) of b \(fmt(b.shape)) differ in size")
        else { return .errorPlaceholder(promoteTypes(a.dtype, b.dtype)) }
    }
    let freeA = (0..<a.ndim).filter { !aa.contains($0) }, freeB = (0..<b.ndim).filter { !bb.contains($0) }
    let k = aa.map { a.shape[$0] }.reduce(1, *)
    let ma = a.transposed(freeA + aa).reshaped([freeA.map { a.shape[$0] }.reduce(1, *), k])
    let mb = b.transposed(bb + freeB).reshaped([k, freeB.map { b.shape[$0] }.reduce(1, *)])
    return matmul(ma, mb).reshaped(freeA.map { a.shape[$0] } + freeB.map { b.shape[$0] })
}

/// Sum over the last `axes` axes of a and the first `axes` of b.
public func tensordot(_ a: Tensor, _ b: Tensor, axes: Int = 2) -> Tensor {
    guard check(axes >= 0 && axes <= a.ndim && axes <= b.ndim, "tensordot",
                "axes \(axes) exceeds the ranks of \(fmt(a.shape)) and \(fmt(b.shape))")
    else { return .errorPlaceholder(promoteTypes(a.dtype, b.dtype)) }
    return tensordot(a, b, axesA: Array((a.ndim - axes)..<a.ndim), axesB: Array(0..<axes))
}

/// Inner product over the last axes (scalars multiply).
public func inner(_ a: Tensor, _ b: Tensor) -> Tensor {
    if a.ndim == 0 || b.ndim == 0 { return a * b }
    guard check(a.dim(-1) == b.dim(-1), "inner", "last axes differ: \(fmt(a.shape)) and \(fmt(b.shape))")
    else { return .errorPlaceholder(promoteTypes(a.dtype, b.dtype)) }
    return tensordot(a, b, axesA: [a.ndim - 1], axesB: [b.ndim - 1])
}

/// Outer product of the flattened inputs.
public func outer(_ a: Tensor, _ b: Tensor) -> Tensor {
    a.reshaped([-1, 1]) * b.reshaped([1, -1])
}

/// Kronecker product.
public func kron(_ a: Tensor, _ b: Tensor) -> Tensor {
    let nd = Swift.max(a.ndim, b.ndim)
    let sa = [Int](repeating: 1, count: nd - a.ndim) + a.shape, sb = [Int](repeating: 1, count: nd - b.ndim) + b.shape
    var ea: [Int] = [], eb: [Int] = []
    for i in 0..<nd { ea += [sa[i], 1]; eb += [1, sb[i]] }
    return (a.reshaped(ea) * b.reshaped(eb)).reshaped(zip(sa, sb).map { $0 * $1 })
}

/// The diagonal of the (axis1, axis2) planes, offset above (> 0) or below (< 0) the main one;
/// the diagonal becomes the last axis.
public func diagonal(_ x: Tensor, offset: Int = 0, axis1: Int = 0, axis2: Int = 1) -> Tensor {
    let op = "diagonal"
    guard check(x.ndim >= 2, op, "needs at least 2 dimensions, got shape \(fmt(x.shape))"),
          let a1 = normalizeAxis(axis1, x.ndim, op), let a2 = normalizeAxis(axis2, x.ndim, op),
          check(a1 != a2, op, "axis1 and axis2 must differ, got \(axis1) and \(axis2) for shape \(fmt(x.shape))")
    else { return .errorPlaceholder(x.dtype) }
    let rest = (0..<x.ndim).filter { $0 != a1 && $0 != a2 }
    let m = x.transposed(rest + [a1, a2])
    let n1 = x.shape[a1], n2 = x.shape[a2]
    let len = Swift.max(0, offset >= 0 ? Swift.min(n1, n2 - offset) : Swift.min(n1 + offset, n2))
    let i = arange(len) + Swift.max(0, -offset), j = arange(len) + Swift.max(0, offset)
    if len == 0 { return zeros(rest.map { x.shape[$0] } + [0], dtype: x.dtype) }
    return m.index([.ellipsis, .tensor(i), .tensor(j)])
}

/// 1-D input: a square matrix with x on diagonal k. 2-D input: its k-th diagonal.
public func diag(_ x: Tensor, k: Int = 0) -> Tensor {
    if x.ndim == 2 { return diagonal(x, offset: k) }
    guard check(x.ndim == 1, "diag", "input must be 1-D or 2-D, got shape \(fmt(x.shape))") else { return .errorPlaceholder(x.dtype) }
    let n = x.dim(0) + Swift.abs(k)
    let mask = eye(n, n, k: k, dtype: .bool)
    // Row i of the result holds x[i] (k >= 0) or x[j] on column j (k < 0).
    let values = k >= 0 ? padded(x, widths: [(0, k)]).reshaped([n, 1]) : padded(x, widths: [(0, -k)]).reshaped([1, n])
    return which(mask, values.broadcast(to: [n, n]), zeros([n, n], dtype: x.dtype))
}

/// Sum of a diagonal.
public func trace(_ x: Tensor, offset: Int = 0, axis1: Int = 0, axis2: Int = 1, dtype: DType? = nil) -> Tensor {
    let d = diagonal(x, offset: offset, axis1: axis1, axis2: axis2)
    let s = sum(d, axes: [-1])
    return dtype.map { s.asType($0) } ?? s
}

// MARK: - einsum

/// Einstein summation, e.g. `einsum("ij,jk->ik", a, b)`, `einsum("bhqd,bhkd->bhqk", q, k)`,
/// `einsum("ii", m)`. Operands are contracted pairwise, each time choosing the pair whose result
/// is smallest (a greedy path for three or more operands); each pairwise step is one matmul.
public func einsum(_ subscripts: String, _ operands: Tensor...) -> Tensor { einsum(subscripts, operands) }

public func einsum(_ subscripts: String, _ operands: [Tensor]) -> Tensor {
    let op = "einsum"
    let dt = operands.map(\.dtype).reduce(operands.first?.dtype ?? .float32) { promoteTypes($0, $1) }
    let spec = subscripts.replacingOccurrences(of: " ", with: "")
    let parts = spec.components(separatedBy: "->")
    guard check(parts.count <= 2, op, "more than one '->' in \"\(subscripts)\"") else { return .errorPlaceholder(dt) }
    let ins = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
    let shapes = operands.map { fmt($0.shape) }.joined(separator: ", ")
    guard check(ins.count == operands.count, op, "\"\(subscripts)\" names \(ins.count) operands but \(operands.count) were given"),
          check(ins.allSatisfy { $0.allSatisfy(\.isLetter) }, op, "only letters are supported as subscripts in \"\(subscripts)\""),
          check(zip(ins, operands).allSatisfy { $0.count == $1.ndim }, op,
                "subscripts \"\(subscripts)\" do not match the operand ranks: \(shapes)")
    else { return .errorPlaceholder(dt) }
    var sizes: [Character: Int] = [:]
    for (labels, t) in zip(ins, operands) {
        for (l, n) in zip(labels, t.shape) {
            if let m = sizes[l], m != n, m != 1, n != 1 {
                _ = check(false, op, "label '\(l)' has sizes \(m) and \(n) in \"\(subscripts)\": \(shapes)")
                return .errorPlaceholder(dt)
            }
            sizes[l] = Swift.max(sizes[l] ?? 1, n)
        }
    }
    let output: [Character]
    if parts.count == 2 {
        output = Array(parts[1])
        guard check(output.allSatisfy { sizes[$0] != nil } && Set(output).count == output.count, op,
                    "output subscripts \"\(parts[1])\" must be distinct labels of the inputs")
        else { return .errorPlaceholder(dt) }
    } else {
        // Implicit output: labels that appear once, in alphabetical order.
        let counts = ins.flatMap { $0 }.reduce(into: [Character: Int]()) { $0[$1, default: 0] += 1 }
        output = counts.filter { $0.value == 1 }.map(\.key).sorted()
    }
    // Each term: a tensor with distinct labels (repeated labels become diagonals).
    var terms: [(Tensor, [Character])] = []
    for (labels, t0) in zip(ins, operands) {
        var t = t0.asType(dt), ls = labels
        while let (i, j) = firstRepeat(ls) {
            t = diagonal(t, axis1: i, axis2: j)
            let l = ls[i]
            ls.remove(at: j); ls.remove(at: i); ls.append(l)
        }
        terms.append((t, ls))
    }
    func needed(_ except: [Int]) -> Set<Character> {
        var s = Set(output)
        for (k, term) in terms.enumerated() where !except.contains(k) { s.formUnion(term.1) }
        return s
    }
    // Sum out labels that only one term has and nobody needs.
    func reduceAlone(_ k: Int) {
        let keep = needed([k])
        let drop = terms[k].1.enumerated().filter { !keep.contains($0.element) }.map(\.offset)
        if drop.isEmpty { return }
        terms[k].0 = sum(terms[k].0, axes: drop)
        terms[k].1 = terms[k].1.enumerated().filter { keep.contains($0.element) }.map(\.element)
    }
    for k in terms.indices { reduceAlone(k) }
    while terms.count > 1 {
        // Greedy: the pair with the smallest result.
        var best = (0, 1), bestSize = Int.max
        for i in 0..<terms.count {
            for j in (i + 1)..<terms.count {
                let keep = needed([i, j])
                let labels = Set(terms[i].1).union(terms[j].1).filter { keep.contains($0) }
                let size = labels.map { sizes[$0]! }.reduce(1, *)
                if size < bestSize { bestSize = size; best = (i, j) }
            }
        }
        let (i, j) = best
        let keep = needed([i, j])
        let merged = contractPair(terms[i], terms[j], keep: keep, sizes: sizes)
        terms.remove(at: j); terms.remove(at: i)
        terms.append(merged)
    }
    var (t, ls) = terms[0]
    let extra = ls.enumerated().filter { !output.contains($0.element) }.map(\.offset)
    if !extra.isEmpty {
        t = sum(t, axes: extra)
        ls = ls.filter { output.contains($0) }
    }
    if ls.isEmpty { return t }
    return t.transposed(output.map { ls.firstIndex(of: $0)! })
}

private func firstRepeat(_ ls: [Character]) -> (Int, Int)? {
    for i in ls.indices { for j in (i + 1)..<ls.count where ls[i] == ls[j] { return (i, j) } }
    return nil
}

/// Contracts two terms: labels in both that `keep` needs are batch dims, labels in both that
/// nobody needs are summed, the rest are free; one matmul of [batch, freeA, k] x [batch, k, freeB].
private func contractPair(_ a: (Tensor, [Character]), _ b: (Tensor, [Character]), keep: Set<Character>,
                          sizes: [Character: Int]) -> (Tensor, [Character]) {
    let la = a.1, lb = b.1
    let common = la.filter { lb.contains($0) }
    let batch = common.filter { keep.contains($0) }
    let contracted = common.filter { !keep.contains($0) }
    let freeA = la.filter { !lb.contains($0) }, freeB = lb.filter { !la.contains($0) }
    func arranged(_ t: Tensor, _ ls: [Character], _ order: [Character]) -> Tensor {
        let perm = order.map { ls.firstIndex(of: $0)! }
        return t.transposed(perm).broadcast(to: order.map { sizes[$0]! })
    }
    let n = { (ls: [Character]) in ls.map { sizes[$0]! }.reduce(1, *) }
    let ta = arranged(a.0, la, batch + freeA + contracted).reshaped([n(batch), n(freeA), n(contracted)])
    let tb = arranged(b.0, lb, batch + contracted + freeB).reshaped([n(batch), n(contracted), n(freeB)])
    let labels = batch + freeA + freeB
    let r = matmul(ta, tb).reshaped(labels.map { sizes[$0]! })
    return (r, labels)
}

// Reductions over one axis of a tensor viewed as [outer, n, inner]: sum, max, min, and the
// positions of the maxima and minima. Vector accumulators, several per loop, because Swift
// does not reassociate float adds on its own.

/// An associative combination of elements with an identity (sum, max, min).
protocol ReduceOp {
    var identity: Float { get }
    func combine(_ a: Vec, _ b: Vec) -> Vec
    func combine(_ a: Float, _ b: Float) -> Float
}

extension ReduceOp {
    /// Combines the 16 lanes of `v` into one value.
    @inline(__always)
    func horizontal(_ v: Vec) -> Float {
        var r = v[0]
        for i in 1..<16 { r = combine(r, v[i]) }
        return r
    }
}

struct SumReduce: ReduceOp {
    var identity: Float { 0 }
    @inline(__always) func combine(_ a: Vec, _ b: Vec) -> Vec { a + b }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { a + b }
}

/// Maximum; NaN wins, as in PyTorch.
struct MaxReduce: ReduceOp {
    var identity: Float { -.infinity }
    @inline(__always) func combine(_ a: Vec, _ b: Vec) -> Vec { MaxOp().apply(a, b) }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { (a < b || b.isNaN) ? b : a }
}

/// Minimum; NaN wins, as in PyTorch.
struct MinReduce: ReduceOp {
    var identity: Float { .infinity }
    @inline(__always) func combine(_ a: Vec, _ b: Vec) -> Vec { MinOp().apply(a, b) }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { (a > b || b.isNaN) ? b : a }
}

extension Kernels {
    /// Combines `count` contiguous elements.
    @inline(__always)
    static func reduceContiguous<Op: ReduceOp>(_ op: Op, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        // Blocks of 4096 keep the partial sums short, which keeps float sums accurate.
        var total = op.identity
        var start = 0
        let id = Vec(repeating: op.identity)
        while start < count {
            let end = min(count, start + 4096)
            var a0 = id, a1 = id, a2 = id, a3 = id
            var i = start
            while i + 64 <= end {
                a0 = op.combine(a0, load(x, i)); a1 = op.combine(a1, load(x, i + 16))
                a2 = op.combine(a2, load(x, i + 32)); a3 = op.combine(a3, load(x, i + 48))
                i += 64
            }
            while i + 16 <= end { a0 = op.combine(a0, load(x, i)); i += 16 }
            var block = op.horizontal(op.combine(op.combine(a0, a1), op.combine(a2, a3)))
            while i < end { block = op.combine(block, x[i]); i += 1 }
            total = op.combine(total, block)
            start = end
        }
        return total
    }

    /// `out[o, i] = op over j of x[o, j, i]` for `x` viewed as `[outer, n, inner]`.
    static func reduce<Op: ReduceOp>(
        _ op: Op, _ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
        _ out: UnsafeMutablePointer<Float>
    ) {
        let total = outer * n * inner
        let s = UncheckedSendable((x, out))
        if inner == 1 {
            if outer == 1 {
                // One long reduction: split it over threads, then combine the partials.
                let parts = min(Threads.count, max(1, total / elementwiseParallelThreshold))
                if parts == 1 { out[0] = reduceContiguous(op, x, n); return }
                let partials = AlignedBuffer(count: parts)
                defer { partials.free() }
                let p = UncheckedSendable(partials.pointer)
                parallelFor(chunks: parts) { part in
                    let range = splitRange(n, parts: parts, part: part, granule: 4096)
                    p.value[part] = range.isEmpty ? op.identity : reduceContiguous(op, s.value.0 + range.lowerBound, range.count)
                }
                var r = op.identity
                for i in 0..<parts { r = op.combine(r, partials.pointer[i]) }
                out[0] = r
                return
            }
            let parts = min(Threads.count, max(1, total / elementwiseParallelThreshold), outer)
            parallelFor(chunks: parts) { part in
                let (x, out) = s.value
                for o in splitRange(outer, parts: parts, part: part) { out[o] = reduceContiguous(op, x + o * n, n) }
            }
            return
        }
        let parts = min(Threads.count, max(1, total / elementwiseParallelThreshold), outer)
        parallelFor(chunks: parts) { part in
            let (x, out) = s.value
            for o in splitRange(outer, parts: parts, part: part) {
                let dst = out + o * inner
                dst.update(repeating: op.identity, count: inner)
                for j in 0..<n {
                    let src = x + (o * n + j) * inner
                    var i = 0
                    while i + 16 <= inner { store(op.combine(load(dst, i), load(src, i)), dst, i); i += 16 }
                    while i < inner { dst[i] = op.combine(dst[i], src[i]); i += 1 }
                }
            }
        }
    }

    /// `out[o, i] = the j of the first maximum (or minimum) of x[o, j, i]`; NaN counts as the maximum
    /// (and as the minimum), as in PyTorch.
    static func argReduce(
        _ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, largest: Bool,
        _ out: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = x + o * n * inner + i
                var best = base[0], bestIndex = 0
                if !best.isNaN {
                    for j in 1..<max(n, 1) {
                        let v = base[j * inner]
                        if v.isNaN { bestIndex = j; break }
                        if largest ? v > best : v < best { best = v; bestIndex = j }
                    }
                }
                out[o * inner + i] = Float(bestIndex)
            }
        }
    }
}

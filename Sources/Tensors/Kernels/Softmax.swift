// Row-wise softmax and log-softmax, numerically stable (the row maximum is subtracted first).

extension Kernels {
    /// For each of `rows` contiguous rows of length `n`: `out = x - logsumexp(x)` when `log`,
    /// else `out = exp(x - max) / sum(exp(x - max))`.
    static func softmaxRows(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, n: Int, log: Bool) {
        let s = UncheckedSendable((x, out))
        let parts = min(Threads.count, max(1, rows * n / (elementwiseParallelThreshold / 4)), rows)
        parallelFor(chunks: parts) { part in
            let (x, out) = s.value
            for r in splitRange(rows, parts: parts, part: part) {
                let row = x + r * n, dst = out + r * n
                let m = reduceContiguous(MaxReduce(), row, n)
                let shift = Vec(repeating: m.isFinite ? m : 0)
                // dst = exp(x - m), summed on the way.
                var acc = Vec()
                var i = 0
                while i + 16 <= n {
                    let e = (load(row, i) - shift).exp()
                    store(e, dst, i)
                    acc += e
                    i += 16
                }
                if i < n {
                    let e = (loadPartial(row + i, n - i) - shift).exp()
                    storePartial(e, dst + i, n - i)
                    for j in 0..<(n - i) { acc[j] += e[j] }
                }
                let total = acc.sum()
                if log {
                    let lse = Vec(repeating: shift[0] + Vec(repeating: total).log()[0])
                    map(RightScalarOp(op: SubOp(), scalar: lse), row, dst, count: n)
                } else {
                    scaleInPlace(dst, count: n, by: 1 / total)
                }
            }
        }
    }
}

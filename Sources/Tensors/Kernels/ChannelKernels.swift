// Per-channel loops over tensors viewed as [outer, channels, inner] (NCHW with inner = H·W):
// the statistics and affine maps of batch normalisation, optionally fused with a ReLU.
//
// These passes are memory-bound and run on tensors of 0.2–3 MB in a ResNet step, so they split
// over threads from a lower size than element-wise ops do: a pass over a few hundred KB already
// repays a dispatch. The layout copies around convolutions and pooling split the same way.

/// Elements per thread below which a per-channel pass stays on one thread.
let channelParallelThreshold = 1 << 15

extension Kernels {
    /// How many threads a per-channel pass over `elements` elements, split into `units`, uses.
    @inline(__always)
    static func channelParts(_ elements: Int, units: Int) -> Int {
        // Two parts per thread, taken by whichever thread is free, so neither waits long for the other.
        let threads = Threads.count
        return min(threads == 1 ? 1 : 2 * threads, max(1, elements / channelParallelThreshold), max(units, 1))
    }

    /// Mean and biased variance of each channel over the outer and inner axes, in one pass:
    /// sums of `d = x - s` and `d²` with `s` the channel's first value (a shift near the data,
    /// so that `Σd² - (Σd)²/n` does not cancel), each row summed in SIMD lanes and the rows in Double.
    static func channelStatistics(
        _ x: UnsafePointer<Float>, outer: Int, channels: Int, inner: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        if inner < narrowMapLimit {
            return narrowChannelStatistics(x, outer: outer, channels: channels, inner: inner, mean: mean, variance: variance)
        }
        let shared = UncheckedSendable((x, mean, variance))
        let count = Double(outer * inner)
        let parts = channelParts(outer * channels * inner, units: channels)
        parallelFor(chunks: parts) { part in
            let (x, mean, variance) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                let shift = outer * inner > 0 ? x[c * inner] : 0
                let vs = Vec(repeating: shift)
                var sum = 0.0, squares = 0.0
                for o in 0..<outer {
                    let row = x + (o * channels + c) * inner
                    var s1 = Vec(), s2 = Vec(), i = 0
                    while i + 16 <= inner { let d = load(row, i) - vs; s1 += d; s2 = s2.plusProduct(d, d); i += 16 }
                    var t1: Float = 0, t2: Float = 0
                    while i < inner { let d = row[i] - shift; t1 += d; t2 += d * d; i += 1 }
                    sum += Double(s1.sum() + t1)
                    squares += Double(s2.sum() + t2)
                }
                let m = sum / count
                mean[c] = Float(Double(shift) + m)
                variance[c] = Float(max(0, squares / count - m * m))
            }
        }
    }

    /// `out = scale[c]·a + shift[c]`, or with `b`: `out = scale[c]·a + bScale[c]·b + shift[c]`.
    ///
    /// - Parameters:
    ///   - gate: when given, `a` counts only where `gate > 0` (ReLU's backward folded in: `a` is
    ///     the gradient of a ReLU's output `gate`).
    ///   - relu: when true, `out = max(0, ...)` (ReLU's forward folded in).
    static func channelAffine(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, outer: Int, channels: Int, inner: Int,
        scale: UnsafePointer<Float>, bScale: UnsafePointer<Float>?, shift: UnsafePointer<Float>,
        gate: UnsafePointer<Float>? = nil, relu: Bool = false,
        _ out: UnsafeMutablePointer<Float>
    ) {
        if inner < narrowMapLimit {
            return narrowChannelAffine(
                a, b, outer: outer, channels: channels, inner: inner, scale: scale, bScale: bScale, shift: shift, gate: gate,
                relu: relu, out)
        }
        let shared = UncheckedSendable((a, b, scale, bScale, shift, gate, out))
        let parts = channelParts(outer * channels * inner, units: outer * channels)
        parallelFor(chunks: parts) { part in
            let (a, b, scale, bScale, shift, gate, out) = shared.value
            for row in splitRange(outer * channels, parts: parts, part: part) {
                let c = row % channels
                let va = Vec(repeating: scale[c]), vs = Vec(repeating: shift[c]), vb = Vec(repeating: bScale?[c] ?? 0)
                let src = a + row * inner, dst = out + row * inner
                let other = b.map { $0 + row * inner }, gateRow = gate.map { $0 + row * inner }
                var i = 0
                while i + 16 <= inner {
                    var av = load(src, i)
                    if let gateRow { av = Vec().replacing(with: av, where: load(gateRow, i) .> 0) }
                    var v = vs.plusProduct(va, av)
                    if let other { v = v.plusProduct(vb, load(other, i)) }
                    if relu { v = v.replacing(with: 0, where: v .< 0) }
                    store(v, dst, i)
                    i += 16
                }
                while i < inner {
                    var av = src[i]
                    if let gateRow, !(gateRow[i] > 0) { av = 0 }
                    var v = shift[c] + scale[c] * av
                    if let other { v += (bScale?[c] ?? 0) * other[i] }
                    if relu && v < 0 { v = 0 }
                    dst[i] = v
                    i += 1
                }
            }
        }
    }

    /// Per channel: `Σ g` and `Σ g·(x - mean[c])`; with `gate`, `g` counts only where `gate > 0`.
    static func channelGradientSums(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, outer: Int, channels: Int, inner: Int,
        mean: UnsafePointer<Float>, gate: UnsafePointer<Float>? = nil,
        sumG: UnsafeMutablePointer<Float>, sumGX: UnsafeMutablePointer<Float>
    ) {
        if inner < narrowMapLimit {
            return narrowChannelGradientSums(
                g, x, outer: outer, channels: channels, inner: inner, mean: mean, gate: gate, sumG: sumG, sumGX: sumGX)
        }
        let shared = UncheckedSendable((g, x, mean, gate, sumG, sumGX))
        let parts = channelParts(outer * channels * inner, units: channels)
        parallelFor(chunks: parts) { part in
            let (g, x, mean, gate, sumG, sumGX) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                var s: Float = 0, sx: Float = 0
                let vm = Vec(repeating: mean[c])
                for o in 0..<outer {
                    let offset = (o * channels + c) * inner
                    let gr = g + offset, xr = x + offset, gateRow = gate.map { $0 + offset }
                    var a1 = Vec(), a2 = Vec(), i = 0
                    while i + 16 <= inner {
                        var gv = load(gr, i)
                        if let gateRow { gv = Vec().replacing(with: gv, where: load(gateRow, i) .> 0) }
                        a1 += gv
                        a2 = a2.plusProduct(gv, load(xr, i) - vm)
                        i += 16
                    }
                    var t1: Float = 0, t2: Float = 0
                    while i < inner {
                        var gv = gr[i]
                        if let gateRow, !(gateRow[i] > 0) { gv = 0 }
                        t1 += gv; t2 += gv * (xr[i] - mean[c]); i += 1
                    }
                    s += a1.sum() + t1
                    sx += a2.sum() + t2
                }
                sumG[c] = s
                sumGX[c] = sx
            }
        }
    }
}

// Per-channel loops over tensors viewed as [outer, channels, inner] (NCHW with inner = H·W):
// the statistics and affine maps of batch normalisation.

extension Kernels {
    /// Mean and biased variance of each channel over the outer and inner axes (two passes).
    package static func channelStatistics(_ x: UnsafePointer<Float>, outer: Int, channels: Int, inner: Int,
                                          mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let shared = UncheckedSendable((x, mean, variance))
        let count = Float(outer * inner)
        let parts = min(Threads.count, max(1, outer * channels * inner / elementwiseParallelThreshold), channels)
        parallelFor(chunks: parts) { part in
            let (x, mean, variance) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                var sum: Float = 0
                for o in 0..<outer { sum += reduceContiguous(SumReduce(), x + (o * channels + c) * inner, inner) }
                let m = sum / count
                var squares: Float = 0
                let vm = Vec(repeating: m)
                for o in 0..<outer {
                    let row = x + (o * channels + c) * inner
                    var acc = Vec(), i = 0
                    while i + 16 <= inner { let d = load(row, i) - vm; acc = acc.addingProduct(d, d); i += 16 }
                    var tail: Float = 0
                    while i < inner { let d = row[i] - m; tail += d * d; i += 1 }
                    squares += acc.sum() + tail
                }
                mean[c] = m
                variance[c] = squares / count
            }
        }
    }

    /// `out = scale[c]·a + shift[c]`, or with `b`: `out = scale[c]·a + bScale[c]·b + shift[c]`.
    package static func channelAffine(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, outer: Int, channels: Int, inner: Int,
                                      scale: UnsafePointer<Float>, bScale: UnsafePointer<Float>?, shift: UnsafePointer<Float>,
                                      _ out: UnsafeMutablePointer<Float>) {
        let shared = UncheckedSendable((a, b, scale, bScale, shift, out))
        let parts = min(Threads.count, max(1, outer * channels * inner / elementwiseParallelThreshold), outer * channels)
        parallelFor(chunks: parts) { part in
            let (a, b, scale, bScale, shift, out) = shared.value
            for row in splitRange(outer * channels, parts: parts, part: part) {
                let c = row % channels
                let va = Vec(repeating: scale[c]), vs = Vec(repeating: shift[c]), vb = Vec(repeating: bScale?[c] ?? 0)
                let src = a + row * inner, dst = out + row * inner, other = b.map { $0 + row * inner }
                var i = 0
                while i + 16 <= inner {
                    var v = vs.addingProduct(va, load(src, i))
                    if let other { v = v.addingProduct(vb, load(other, i)) }
                    store(v, dst, i)
                    i += 16
                }
                while i < inner {
                    var v = shift[c] + scale[c] * src[i]
                    if let other { v += (bScale?[c] ?? 0) * other[i] }
                    dst[i] = v
                    i += 1
                }
            }
        }
    }

    /// Per channel: `Σ g` and `Σ g·(x - mean[c])`.
    package static func channelGradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, outer: Int, channels: Int, inner: Int,
                                            mean: UnsafePointer<Float>, sumG: UnsafeMutablePointer<Float>, sumGX: UnsafeMutablePointer<Float>) {
        let shared = UncheckedSendable((g, x, mean, sumG, sumGX))
        let parts = min(Threads.count, max(1, outer * channels * inner / elementwiseParallelThreshold), channels)
        parallelFor(chunks: parts) { part in
            let (g, x, mean, sumG, sumGX) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                var s: Float = 0, sx: Float = 0
                let vm = Vec(repeating: mean[c])
                for o in 0..<outer {
                    let gr = g + (o * channels + c) * inner, xr = x + (o * channels + c) * inner
                    var a1 = Vec(), a2 = Vec(), i = 0
                    while i + 16 <= inner {
                        let gv = load(gr, i)
                        a1 += gv
                        a2 = a2.addingProduct(gv, load(xr, i) - vm)
                        i += 16
                    }
                    var t1: Float = 0, t2: Float = 0
                    while i < inner { t1 += gr[i]; t2 += gr[i] * (xr[i] - mean[c]); i += 1 }
                    s += a1.sum() + t1
                    sx += a2.sum() + t2
                }
                sumG[c] = s
                sumGX[c] = sx
            }
        }
    }
}

// The per-channel passes of ChannelKernels.swift for maps narrower than a vector (`inner` < 16:
// the 2×2 and 1×1 maps of a ResNet's last stages on small images, and `[N, C]` batch norm).
// Walked channel by channel, such a map is one short row per channel and sample, run in scalar
// code with a strided walk down the batch: 5-10x slower per element than a wide map. Here each
// sample's `channels·inner` values are one row instead, walked a vector at a time, with each
// channel's parameter repeated over its `inner` columns. A row's last, partial vector runs the
// same vector arithmetic as the others, so a value does not depend on where a thread's share of
// the columns starts: the results are the same for every thread count.

extension Kernels {
    /// Maps with fewer values per channel and sample than this take the passes below.
    static let narrowMapLimit = 16

    /// `values[c]` repeated `inner` times for each channel in `channels`, into `out`.
    @inline(__always)
    private static func spread(
        _ values: UnsafePointer<Float>, channels: Range<Int>, inner: Int, into out: UnsafeMutablePointer<Float>
    ) {
        var j = 0
        for c in channels {
            for _ in 0..<inner {
                out[j] = values[c]
                j += 1
            }
        }
    }

    /// Calls `body(j, n)` for the vectors of a row of `width` values: `n` = 16 but for the last.
    @inline(__always)
    private static func forEachVector(_ width: Int, _ body: (Int, Int) -> Void) {
        var j = 0
        while j < width {
            body(j, min(16, width - j))
            j += 16
        }
    }

    @inline(__always)
    private static func loadAny(_ p: UnsafePointer<Float>, _ j: Int, _ n: Int) -> Vec {
        n == 16 ? load(p, j) : loadPartial(p + j, n)
    }

    @inline(__always)
    private static func storeAny(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ j: Int, _ n: Int) {
        if n == 16 { store(v, p, j) } else { storePartial(v, p + j, n) }
    }

    /// `channelStatistics` for `inner < narrowMapLimit`: the same shifted sums, each column
    /// summed down blocks of 16 samples in SIMD lanes and the blocks in Double, then a channel's
    /// columns added in order.
    static func narrowChannelStatistics(
        _ x: UnsafePointer<Float>, outer: Int, channels: Int, inner: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        let shared = UncheckedSendable((x, mean, variance))
        let count = Double(outer * inner), columns = channels * inner
        let parts = channelParts(outer * columns, units: channels)
        parallelFor(chunks: parts) { part in
            let (x, mean, variance) = shared.value
            let range = splitRange(channels, parts: parts, part: part)
            let width = range.count * inner, first = range.lowerBound * inner
            guard width > 0 else { return }
            // Each row of lanes padded by a vector: the last vector's spare lanes land there.
            let stride = width + 16
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * stride) { floats in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * width) { doubles in
                    let shifts = floats.baseAddress!, sums = shifts + stride, squares = sums + stride
                    let totalSums = doubles.baseAddress!, totalSquares = totalSums + width
                    // A channel's shift is its first value, as in the wide pass.
                    shifts.initialize(repeating: 0, count: stride)
                    for (k, c) in range.enumerated() {
                        for i in 0..<inner { shifts[k * inner + i] = outer > 0 ? x[c * inner] : 0 }
                    }
                    totalSums.initialize(repeating: 0, count: 2 * width)
                    var block = 0
                    while block < outer {
                        sums.initialize(repeating: 0, count: 2 * stride)
                        for o in block..<min(block + 16, outer) {
                            let row = x + o * columns + first
                            forEachVector(width) { j, n in
                                let d = loadAny(row, j, n) - load(shifts, j)
                                store(load(sums, j) + d, sums, j)
                                store(load(squares, j).plusProduct(d, d), squares, j)
                            }
                        }
                        for j in 0..<width {
                            totalSums[j] += Double(sums[j])
                            totalSquares[j] += Double(squares[j])
                        }
                        block += 16
                    }
                    for (k, c) in range.enumerated() {
                        var sum = 0.0, sumOfSquares = 0.0
                        for i in 0..<inner {
                            sum += totalSums[k * inner + i]
                            sumOfSquares += totalSquares[k * inner + i]
                        }
                        let m = sum / count
                        mean[c] = Float(Double(shifts[k * inner]) + m)
                        variance[c] = Float(max(0, sumOfSquares / count - m * m))
                    }
                }
            }
        }
    }

    /// `channelAffine` for `inner < narrowMapLimit`, sample by sample along rows of
    /// `channels·inner` values, with the same arithmetic as the wide pass's vector loop.
    static func narrowChannelAffine(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, outer: Int, channels: Int, inner: Int,
        scale: UnsafePointer<Float>, bScale: UnsafePointer<Float>?, shift: UnsafePointer<Float>,
        gate: UnsafePointer<Float>?, relu: Bool, _ out: UnsafeMutablePointer<Float>
    ) {
        let columns = channels * inner
        guard columns > 0 else { return }
        // The three parameter rows, each readable a whole vector past its end.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * columns + 16) { buffer in
            let scales = buffer.baseAddress!, shifts = scales + columns, bScales = shifts + columns
            buffer.initialize(repeating: 0)
            spread(scale, channels: 0..<channels, inner: inner, into: scales)
            spread(shift, channels: 0..<channels, inner: inner, into: shifts)
            if let bScale { spread(bScale, channels: 0..<channels, inner: inner, into: bScales) }
            let shared = UncheckedSendable((a, b, gate, out, UnsafePointer(scales), UnsafePointer(shifts), UnsafePointer(bScales)))
            let parts = min(channelParts(outer * columns, units: outer * channels), outer)
            parallelFor(chunks: parts) { part in
                let (a, b, gate, out, scales, shifts, bScales) = shared.value
                for o in splitRange(outer, parts: parts, part: part) {
                    let offset = o * columns
                    let src = a + offset, dst = out + offset
                    let other = b.map { $0 + offset }, gateRow = gate.map { $0 + offset }
                    forEachVector(columns) { j, n in
                        var av = loadAny(src, j, n)
                        if let gateRow { av = Vec().replacing(with: av, where: loadAny(gateRow, j, n) .> 0) }
                        var v = load(shifts, j).plusProduct(load(scales, j), av)
                        if let other { v = v.plusProduct(load(bScales, j), loadAny(other, j, n)) }
                        if relu { v = v.replacing(with: 0, where: v .< 0) }
                        storeAny(v, dst, j, n)
                    }
                }
            }
        }
    }

    /// `channelGradientSums` for `inner < narrowMapLimit`: each column summed down the batch in
    /// SIMD lanes (in Float, as the wide pass sums), then a channel's columns added in order.
    static func narrowChannelGradientSums(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, outer: Int, channels: Int, inner: Int,
        mean: UnsafePointer<Float>, gate: UnsafePointer<Float>?,
        sumG: UnsafeMutablePointer<Float>, sumGX: UnsafeMutablePointer<Float>
    ) {
        let shared = UncheckedSendable((g, x, mean, gate, sumG, sumGX))
        let columns = channels * inner
        let parts = channelParts(outer * columns, units: channels)
        parallelFor(chunks: parts) { part in
            let (g, x, mean, gate, sumG, sumGX) = shared.value
            let range = splitRange(channels, parts: parts, part: part)
            let width = range.count * inner, first = range.lowerBound * inner
            guard width > 0 else { return }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * width + 48) { buffer in
                // Each row of lanes padded by a vector: the last vector's spare lanes land there.
                let means = buffer.baseAddress!, sums = means + width + 16, products = sums + width + 16
                buffer.initialize(repeating: 0)
                spread(mean, channels: range, inner: inner, into: means)
                for o in 0..<outer {
                    let offset = o * columns + first
                    let gRow = g + offset, xRow = x + offset, gateRow = gate.map { $0 + offset }
                    forEachVector(width) { j, n in
                        var gv = loadAny(gRow, j, n)
                        if let gateRow { gv = Vec().replacing(with: gv, where: loadAny(gateRow, j, n) .> 0) }
                        store(load(sums, j) + gv, sums, j)
                        store(load(products, j).plusProduct(gv, loadAny(xRow, j, n) - load(means, j)), products, j)
                    }
                }
                for (k, c) in range.enumerated() {
                    var s: Float = 0, sx: Float = 0
                    for i in 0..<inner {
                        s += sums[k * inner + i]
                        sx += products[k * inner + i]
                    }
                    sumG[c] = s
                    sumGX[c] = sx
                }
            }
        }
    }
}

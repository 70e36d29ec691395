// im2col and col2im: the layout changes that turn a convolution into one GEMM.
//
// For a tile of samples, `cols` is `[K, P]` with K = C·T, T the kernel taps in use (row c·T + t),
// and P = samples·Hout·Wout (column s·Hout·Wout + oh·Wout + ow): column p holds the input patch
// that output pixel p sees, zeros where the patch hangs over the padding.

extension Kernels {
    /// Fills `cols` (`[K, samples·Hout·Wout]`) from `samples` consecutive images at `x`, stored
    /// NCHW unless `layout` says otherwise (`x` is the first image's first plane).
    static func im2col(
        _ x: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry, _ cols: UnsafeMutablePointer<Float>,
        layout: PlaneLayout? = nil
    ) {
        let layout = layout ?? .nchw(channels: g.channels)
        let p = samples * g.outPixels, taps = g.taps.count
        let tables = g.copiesRuns ? [] : (0..<taps).map { g.offsets(tap: $0) }
        let shared = UncheckedSendable((x, cols))
        let rows = g.patchSize
        let parts = min(Threads.count, max(1, rows * p / elementwiseParallelThreshold), rows)
        parallelFor(chunks: parts) { part in
            let (x, cols) = shared.value
            for row in splitRange(rows, parts: parts, part: part) {
                let c = row / taps, t = row % taps
                let dstRow = cols + row * p
                if !g.copiesRuns {
                    // Zeros for the padding, then the pixels that see the input: no branch per element.
                    let (pixels, offsets) = tables[t]
                    let full = pixels.count == g.outPixels
                    pixels.withUnsafeBufferPointer { q in
                        offsets.withUnsafeBufferPointer { o in
                            for s in 0..<samples {
                                let plane = x + layout.plane(sample: s, channel: c) * g.inPixels, dst = dstRow + s * g.outPixels
                                if !full { dst.update(repeating: 0, count: g.outPixels) }
                                for k in 0..<q.count { dst[q[k]] = plane[o[k]] }
                            }
                        }
                    }
                    continue
                }
                let i = g.taps[t] / g.kernelW, j = g.taps[t] % g.kernelW
                let columns = g.validColumns(tapColumn: j)
                for s in 0..<samples {
                    let plane = x + layout.plane(sample: s, channel: c) * g.inPixels
                    let dst = dstRow + s * g.outPixels
                    for oh in 0..<g.outH {
                        let ih = oh * g.strideH - g.padH + i
                        let line = dst + oh * g.outW
                        guard ih >= 0 && ih < g.height else { line.update(repeating: 0, count: g.outW); continue }
                        let (lo, hi) = (columns.lowerBound, columns.upperBound)
                        for ow in 0..<lo { line[ow] = 0 }
                        copyStrided(plane + ih * g.width + lo * g.strideW - g.padW + j, stride: g.strideW, line + lo, hi - lo)
                        for ow in hi..<g.outW { line[ow] = 0 }
                    }
                }
            }
        }
    }

    /// Adds `cols` back into the `samples` NCHW images at `dx` (the adjoint of `im2col`).
    /// Threads split the channels, so no two write the same element.
    static func col2im(_ cols: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>) {
        let p = samples * g.outPixels, taps = g.taps.count
        let tables = g.copiesRuns ? [] : (0..<taps).map { g.offsets(tap: $0) }
        let shared = UncheckedSendable((cols, dx))
        let parts = min(Threads.count, max(1, g.patchSize * p / elementwiseParallelThreshold), g.channels)
        parallelFor(chunks: parts) { part in
            let (cols, dx) = shared.value
            for c in splitRange(g.channels, parts: parts, part: part) {
                for t in 0..<taps {
                    let srcRow = cols + (c * taps + t) * p
                    if !g.copiesRuns {
                        let (pixels, offsets) = tables[t]
                        pixels.withUnsafeBufferPointer { q in
                            offsets.withUnsafeBufferPointer { o in
                                for s in 0..<samples {
                                    let plane = dx + (s * g.channels + c) * g.inPixels, src = srcRow + s * g.outPixels
                                    for k in 0..<q.count { plane[o[k]] += src[q[k]] }
                                }
                            }
                        }
                        continue
                    }
                    let i = g.taps[t] / g.kernelW, j = g.taps[t] % g.kernelW
                    let columns = g.validColumns(tapColumn: j)
                    let (lo, hi) = (columns.lowerBound, columns.upperBound)
                    if hi == lo { continue }
                    for s in 0..<samples {
                        let plane = dx + (s * g.channels + c) * g.inPixels
                        let src = srcRow + s * g.outPixels
                        for oh in 0..<g.outH {
                            let ih = oh * g.strideH - g.padH + i
                            guard ih >= 0 && ih < g.height else { continue }
                            let line = src + oh * g.outW + lo, target = plane + ih * g.width + lo * g.strideW - g.padW + j
                            if g.strideW == 1 {
                                axpy(1, line, target, hi - lo)
                            } else {
                                for k in 0..<(hi - lo) { target[k * g.strideW] += line[k] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `dst[k] = src[k·stride]` for `k < count`; reads nothing past `src[(count - 1)·stride]`.
    @inline(__always)
    static func copyStrided(_ src: UnsafePointer<Float>, stride: Int, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        if stride == 1 { return copyFloats(src, dst, count) }
        var k = 0
        if stride == 2 {
            // Sixteen floats give eight outputs; the last load stays before the last one read.
            while k + 8 < count {
                let pair = UnsafeRawPointer(src + 2 * k).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(dst + k).storeBytes(of: pair.evenHalf, as: SIMD8<Float>.self)
                k += 8
            }
        }
        while k < count { dst[k] = src[k * stride]; k += 1 }
    }

    /// im2col for a shifted-copy geometry (`g.isShiftedCopy`) from the input as channel rows:
    /// `cols[c·T + t, q] = rows[c, q + shift(t)]` where the tap sees the input, else 0.
    /// `rows` is `[C, samples·H·W]` with `g.shiftMargin` readable floats before and after it.
    static func im2colShifted(
        _ rows: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry,
        _ cols: UnsafeMutablePointer<Float>
    ) {
        let p = samples * g.inPixels, taps = g.taps.count
        forEachShiftedRow(g, samples: samples, forward: true, units: g.patchSize) { row, masks, shifts in
            let c = row / taps, t = row % taps
            maskedShiftedCopy(rows + c * p + shifts[t], masks + t * p, cols + row * p, p)
        }
    }

    /// col2im for a shifted-copy geometry: the input's gradient as channel rows,
    /// `rows[c, q] = Σ_t cols[c·T + t, q - shift(t)]` over the taps through which pixel q is read.
    /// `cols` is `[C·T, samples·H·W]` with `g.shiftMargin` readable floats before and after it.
    static func col2imShifted(
        _ cols: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry,
        _ rows: UnsafeMutablePointer<Float>
    ) {
        let p = samples * g.inPixels, taps = g.taps.count
        forEachShiftedRow(g, samples: samples, forward: false, units: g.channels) { c, masks, shifts in
            let dst = rows + c * p
            maskedShiftedCopy(cols + c * taps * p - shifts[0], masks, dst, p)
            for t in 1..<max(1, taps) {
                maskedShiftedAdd(cols + (c * taps + t) * p - shifts[t], masks + t * p, dst, p)
            }
        }
    }

    /// Calls `body(unit, masks, shifts)` for each of `units` rows of a shifted copy, split over
    /// threads, with its masks (`shiftMasks(samples:forward:)`) and each tap's shift.
    private static func forEachShiftedRow(
        _ g: ConvGeometry, samples: Int, forward: Bool, units: Int,
        _ body: (Int, UnsafePointer<UInt32>, [Int]) -> Void
    ) {
        let masks = g.shiftMasks(samples: samples, forward: forward)
        let shifts = g.taps.indices.map { g.shift(tap: $0) }
        let parts = min(Threads.count, max(1, g.patchSize * samples * g.inPixels / elementwiseParallelThreshold), units)
        masks.withUnsafeBufferPointer { masks in
            let table = UncheckedSendable(masks.baseAddress!)
            parallelFor(chunks: parts) { part in
                for unit in splitRange(units, parts: parts, part: part) { body(unit, table.value, shifts) }
            }
        }
    }

    /// `dst[i] = mask[i] != 0 ? src[i] : 0` (masks are all-ones or zero): reads all of
    /// `src[0..<count]` (the caller keeps it readable), uses only the masked lanes.
    @inline(__always)
    static func maskedShiftedCopy(
        _ src: UnsafePointer<Float>, _ mask: UnsafePointer<UInt32>, _ dst: UnsafeMutablePointer<Float>,
        _ count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            store(masked(load(src, i), mask, i), dst, i)
            i += 16
        }
        while i < count { dst[i] = mask[i] != 0 ? src[i] : 0; i += 1 }
    }

    /// `dst[i] += mask[i] != 0 ? src[i] : 0`, reading `src` as `maskedShiftedCopy` does.
    @inline(__always)
    static func maskedShiftedAdd(
        _ src: UnsafePointer<Float>, _ mask: UnsafePointer<UInt32>, _ dst: UnsafeMutablePointer<Float>,
        _ count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            store(load(dst, i) + masked(load(src, i), mask, i), dst, i)
            i += 16
        }
        while i < count { if mask[i] != 0 { dst[i] += src[i] }; i += 1 }
    }

    /// The lanes of `v` whose mask (at `mask + i`) is all ones, zero elsewhere: a bitwise AND,
    /// which compiles to one vector instruction (a mask compare goes lane by lane).
    @inline(__always)
    static func masked(_ v: Vec, _ mask: UnsafePointer<UInt32>, _ i: Int) -> Vec {
        let bits = UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD16<UInt32>.self)
        return unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & bits, to: Vec.self)
    }
}

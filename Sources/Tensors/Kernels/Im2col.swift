// im2col and col2im: the layout changes that turn a convolution into one GEMM.
//
// For a tile of samples, `cols` is `[K, P]` with K = C·T, T the kernel taps in use (row c·T + t),
// and P = samples·Hout·Wout (column s·Hout·Wout + oh·Wout + ow): column p holds the input patch
// that output pixel p sees, zeros where the patch hangs over the padding.

/// The geometry of a 2-D convolution or pooling window over NCHW input.
package struct ConvGeometry: Sendable, Equatable {
    package let channels: Int, height: Int, width: Int
    package let kernelH: Int, kernelW: Int
    package let strideH: Int, strideW: Int
    package let padH: Int, padW: Int
    package let outH: Int, outW: Int
    /// The kernel taps (`i·kw + j`) that touch the input for at least one output pixel. The
    /// others only ever see padding and are left out of the GEMM: 8 of the 9 taps of a padded
    /// 3×3 convolution over a 1×1 input, as in the last stage of a ResNet on small images.
    package let taps: [Int]

    package init(channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        self.channels = channels; self.height = height; self.width = width
        kernelH = kernel.0; kernelW = kernel.1
        strideH = stride.0; strideW = stride.1
        padH = padding.0; padW = padding.1
        let outH = (height + 2 * padding.0 - kernel.0) / stride.0 + 1
        let outW = (width + 2 * padding.1 - kernel.1) / stride.1 + 1
        self.outH = outH; self.outW = outW
        func used(_ k: Int, _ out: Int, _ s: Int, _ p: Int, _ n: Int) -> Bool {
            (0..<max(out, 0)).contains { o in (0..<n).contains(o * s - p + k) }
        }
        taps = (0..<(kernel.0 * kernel.1)).filter { tap in
            used(tap / kernel.1, outH, stride.0, padding.0, height) && used(tap % kernel.1, outW, stride.1, padding.1, width)
        }
    }

    /// Rows of `cols`: C·T.
    package var patchSize: Int { channels * taps.count }
    /// True when some taps are left out, so weights must be gathered to match.
    package var prunesTaps: Bool { taps.count < kernelH * kernelW }
    package var outPixels: Int { outH * outW }
    package var inPixels: Int { height * width }

    /// For tap `t`, the output pixels that read the input (not the padding) and the offsets
    /// in an input plane they read, as two parallel lists.
    func offsets(tap t: Int) -> (pixels: [Int], offsets: [Int]) {
        let i = taps[t] / kernelW, j = taps[t] % kernelW
        var pixels: [Int] = [], offsets: [Int] = []
        for oh in 0..<outH {
            let ih = oh * strideH - padH + i
            guard ih >= 0 && ih < height else { continue }
            for ow in 0..<outW {
                let iw = ow * strideW - padW + j
                if iw >= 0 && iw < width { pixels.append(oh * outW + ow); offsets.append(ih * width + iw) }
            }
        }
        return (pixels, offsets)
    }

    /// Rows are copied as contiguous runs when the window moves one pixel at a time along long rows.
    var copiesRuns: Bool { strideW == 1 && outW >= 8 }

    /// True for a stride-1 convolution whose output is the input's size (a 3×3 kernel with
    /// padding 1): with the input as channel rows `[C, samples·H·W]`, each im2col row is the
    /// input's channel row shifted by a constant, zero where the window hangs over the padding.
    package var isShiftedCopy: Bool { strideH == 1 && strideW == 1 && outH == height && outW == width }

    /// The flat shift of tap `t` in a shifted copy: output pixel q reads input pixel q + shift.
    func shift(tap t: Int) -> Int { (taps[t] / kernelW - padH) * width + (taps[t] % kernelW - padW) }

    /// Floats a shifted copy may read before or after a row (the largest shift).
    package var shiftMargin: Int { max(padH * width + padW, (kernelH - 1 - padH) * width + (kernelW - 1 - padW)) }

    /// For a shifted copy, per tap and for `samples` planes: all bits set where output pixel q
    /// reads the input (`forward`), or where input pixel q is read by some output pixel through
    /// the tap (`!forward`), 0 elsewhere; `[T, samples·H·W]`.
    func shiftMasks(samples: Int, forward: Bool) -> [UInt32] {
        // One plane's mask per tap, repeated for every sample.
        var masks: [UInt32] = []
        masks.reserveCapacity(taps.count * samples * height * width)
        for t in taps.indices {
            let i = taps[t] / kernelW - padH, j = taps[t] % kernelW - padW
            var plane = [UInt32](repeating: 0, count: height * width)
            for y in 0..<height {
                for x in 0..<width {
                    let (yy, xx) = forward ? (y + i, x + j) : (y - i, x - j)
                    if yy >= 0 && yy < height && xx >= 0 && xx < width { plane[y * width + x] = .max }
                }
            }
            for _ in 0..<samples { masks.append(contentsOf: plane) }
        }
        return masks
    }
}

extension Kernels {
    /// Where the plane of sample `s`, channel `c` starts, in planes from a batch's first plane:
    /// `s·sampleStride + c·channelStride`. NCHW has strides (C, 1); channel-major `[C, N, H, W]`
    /// has (1, N).
    package struct PlaneLayout: Sendable {
        package let sampleStride: Int, channelStride: Int

        /// NCHW with `channels` channels.
        package static func nchw(channels: Int) -> PlaneLayout { PlaneLayout(sampleStride: channels, channelStride: 1) }
        /// Channel-major `[C, samples, H, W]`.
        package static func channelMajor(samples: Int) -> PlaneLayout { PlaneLayout(sampleStride: 1, channelStride: samples) }

        @inline(__always)
        func plane(sample s: Int, channel c: Int) -> Int { s * sampleStride + c * channelStride }
    }

    /// Fills `cols` (`[K, samples·Hout·Wout]`) from `samples` consecutive images at `x`, stored
    /// NCHW unless `layout` says otherwise (`x` is the first image's first plane).
    package static func im2col(
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
                for s in 0..<samples {
                    let plane = x + layout.plane(sample: s, channel: c) * g.inPixels
                    let dst = dstRow + s * g.outPixels
                    for oh in 0..<g.outH {
                        let ih = oh * g.strideH - g.padH + i
                        let line = dst + oh * g.outW
                        guard ih >= 0 && ih < g.height else { line.update(repeating: 0, count: g.outW); continue }
                        // Valid output columns: 0 <= ow - padW + j < width.
                        let lo = min(g.outW, max(0, g.padW - j)), hi = max(lo, min(g.outW, g.width + g.padW - j))
                        for ow in 0..<lo { line[ow] = 0 }
                        copyFloats(plane + ih * g.width + lo - g.padW + j, line + lo, hi - lo)
                        for ow in hi..<g.outW { line[ow] = 0 }
                    }
                }
            }
        }
    }

    /// Adds `cols` back into the `samples` NCHW images at `dx` (the adjoint of `im2col`).
    /// Threads split the channels, so no two write the same element.
    package static func col2im(_ cols: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>) {
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
                    for s in 0..<samples {
                        let plane = dx + (s * g.channels + c) * g.inPixels
                        let src = srcRow + s * g.outPixels
                        for oh in 0..<g.outH {
                            let ih = oh * g.strideH - g.padH + i
                            guard ih >= 0 && ih < g.height else { continue }
                            let lo = min(g.outW, max(0, g.padW - j)), hi = max(lo, min(g.outW, g.width + g.padW - j))
                            if hi > lo { axpy(1, src + oh * g.outW + lo, plane + ih * g.width + lo - g.padW + j, hi - lo) }
                        }
                    }
                }
            }
        }
    }

    /// im2col for a shifted-copy geometry (`g.isShiftedCopy`) from the input as channel rows:
    /// `cols[c·T + t, q] = rows[c, q + shift(t)]` where the tap sees the input, else 0.
    /// `rows` is `[C, samples·H·W]` with `g.shiftMargin` readable floats before and after it.
    package static func im2colShifted(
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
    package static func col2imShifted(
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

    /// What a convolution does to each output value as its GEMM result is laid out: `v·scale[c] +
    /// shift[c]` (a bias is a shift alone), then `+ residual` (the output's shape and layout),
    /// then ReLU. Each part is optional; with none, a plain copy.
    package struct ChannelEpilogue {
        var scale: UnsafePointer<Float>? = nil
        var shift: UnsafePointer<Float>? = nil
        var residual: UnsafePointer<Float>? = nil
        var relu = false

        /// Adds a per-channel bias, when there is one.
        package static func bias(_ bias: UnsafePointer<Float>?) -> ChannelEpilogue { ChannelEpilogue(shift: bias) }

        package init(
            scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil,
            residual: UnsafePointer<Float>? = nil, relu: Bool = false
        ) {
            self.scale = scale; self.shift = shift; self.residual = residual; self.relu = relu
        }
    }

    /// `out[s, c, q] = epilogue(rows[c, s·Q + q])`: a `[C, samples·Q]` GEMM result to NCHW. The
    /// arithmetic is `channelAffine`'s (a fused multiply-add per vector, multiply then add in the
    /// tail), so an epilogue gives the bits the separate batch-norm pass would.
    package static func channelRowsToNCHW(
        _ rows: UnsafePointer<Float>, samples: Int, pixels: Int, channels: Int,
        epilogue: ChannelEpilogue = ChannelEpilogue(), _ out: UnsafeMutablePointer<Float>
    ) {
        layOutChannelRows(
            rows, samples: samples, pixels: pixels, channels: channels, epilogue: epilogue, out,
            layout: .nchw(channels: channels))
    }

    /// `rows[c, s·Q + q] = epilogue(rows[c, s·Q + q])` in place: a `[C, samples·Q]` GEMM result
    /// that already is channel-major maps (the residual channel-major too), with
    /// `channelRowsToNCHW`'s arithmetic, so each value gets the same bits.
    package static func applyChannelEpilogue(
        _ rows: UnsafeMutablePointer<Float>, samples: Int, pixels: Int, channels: Int,
        epilogue: ChannelEpilogue
    ) {
        let plainCopy = epilogue.scale == nil && epilogue.shift == nil && epilogue.residual == nil && !epilogue.relu
        if plainCopy { return }
        layOutChannelRows(
            rows, samples: samples, pixels: pixels, channels: channels, epilogue: epilogue, rows,
            layout: .channelMajor(samples: samples))
    }

    /// `out[plane(s, c), q] = epilogue(rows[c, s·Q + q])`, the residual laid out as `out`.
    private static func layOutChannelRows(
        _ rows: UnsafePointer<Float>, samples: Int, pixels: Int, channels: Int,
        epilogue: ChannelEpilogue, _ out: UnsafeMutablePointer<Float>, layout: PlaneLayout
    ) {
        let shared = UncheckedSendable((rows, out, epilogue))
        let parts = channelParts(samples * pixels * channels, units: channels)
        let plainCopy = epilogue.scale == nil && epilogue.shift == nil && epilogue.residual == nil && !epilogue.relu
        parallelFor(chunks: parts) { part in
            let (rows, out, e) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                let scale = e.scale?[c] ?? 1, shift = e.shift?[c] ?? 0
                let vScale = Vec(repeating: scale), vShift = Vec(repeating: shift)
                for s in 0..<samples {
                    let offset = layout.plane(sample: s, channel: c) * pixels
                    let src = rows + c * samples * pixels + s * pixels, dst = out + offset
                    if plainCopy { copyFloats(src, dst, pixels); continue }
                    let residual = e.residual.map { $0 + offset }
                    var q = 0
                    while q + 16 <= pixels {
                        var v = e.scale == nil ? load(src, q) + vShift : vShift.plusProduct(vScale, load(src, q))
                        if let residual { v += load(residual, q) }
                        if e.relu { v = v.replacing(with: 0, where: v .< 0) }
                        store(v, dst, q)
                        q += 16
                    }
                    while q < pixels {
                        var v = e.scale == nil ? src[q] + shift : shift + scale * src[q]
                        if let residual { v += residual[q] }
                        if e.relu && v < 0 { v = 0 }
                        dst[q] = v
                        q += 1
                    }
                }
            }
        }
    }

    /// `rows[c, s·Q + q] = x[s, c, q]`: NCHW to a `[C, samples·Q]` matrix.
    package static func nchwToChannelRows(
        _ x: UnsafePointer<Float>, samples: Int, pixels: Int, channels: Int,
        _ rows: UnsafeMutablePointer<Float>
    ) {
        let shared = UncheckedSendable((x, rows))
        let parts = channelParts(samples * pixels * channels, units: channels)
        parallelFor(chunks: parts) { part in
            let (x, rows) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                for s in 0..<samples {
                    copyFloats(x + (s * channels + c) * pixels, rows + c * samples * pixels + s * pixels, pixels)
                }
            }
        }
    }

    /// Gathers T of a `[Cout, C, kernel]` weight's taps (`positions[j]` in each weight row) into
    /// the matrix a convolution's GEMM multiplies: `out[o, c·T + j] = weight[o, c, positions[j]]`
    /// (`[Cout, C·T]`, the taps in use), or with `swapChannels`
    /// `out[c, o·T + j] = weight[o, c, positions[j]]` (`[C, Cout·T]`: with the positions of the
    /// taps rotated by 180°, the weight that maps a shifted-copy convolution's output gradient
    /// to its input gradient).
    package static func gatherTaps(
        _ weight: UnsafePointer<Float>, outChannels: Int, channels: Int, kernel: Int,
        positions: [Int], swapChannels: Bool = false, _ out: UnsafeMutablePointer<Float>
    ) {
        let t = positions.count
        let shared = UncheckedSendable((weight, out))
        let units = swapChannels ? channels : outChannels
        let parts = min(Threads.count, max(1, outChannels * channels * kernel / elementwiseParallelThreshold), units)
        positions.withUnsafeBufferPointer { tapList in
            parallelFor(chunks: parts) { part in
                let (weight, out) = shared.value
                // Each thread writes whole rows of `out`, 16 at a time: with swapped channels the
                // 16 rows' sources are side by side in the weight, so it is read in order (row by
                // row it would be read with a stride of a whole weight row, a cache miss each).
                let rows = splitRange(units, parts: parts, part: part)
                for first in stride(from: rows.lowerBound, to: rows.upperBound, by: 16) {
                    let block = first..<min(first + 16, rows.upperBound)
                    for other in 0..<(swapChannels ? outChannels : channels) {
                        for row in block {
                            let (o, c) = swapChannels ? (other, row) : (row, other)
                            let src = weight + (o * channels + c) * kernel
                            let dst = out + (swapChannels ? c * outChannels + o : o * channels + c) * t
                            for j in 0..<t { dst[j] = src[tapList[j]] }
                        }
                    }
                }
            }
        }
    }

    /// `out[o, c, taps[j]] = src[c·T + j, o]`, zero at the other taps: the weight gradient the
    /// GEMM gives as `dWᵀ[C·T, Cout]`, transposed back to the weight's `[Cout, C, kh·kw]`.
    package static func scatterTransposedTaps(
        _ src: UnsafePointer<Float>, outChannels: Int, channels: Int, kernel: Int,
        taps: [Int], _ out: UnsafeMutablePointer<Float>
    ) {
        let t = taps.count, block = 16
        let blocks = (outChannels + block - 1) / block
        let shared = UncheckedSendable((src, out))
        let parts = min(Threads.count, max(1, outChannels * channels * kernel / elementwiseParallelThreshold), blocks)
        taps.withUnsafeBufferPointer { tapList in
            parallelFor(chunks: parts) { part in
                let (src, out) = shared.value
                for b in splitRange(blocks, parts: parts, part: part) {
                    // 16 output channels at a time: each source row gives 16 contiguous values,
                    // written to 16 weight rows that all advance in step.
                    let o0 = b * block, width = min(block, outChannels - o0)
                    if t < kernel { (out + o0 * channels * kernel).update(repeating: 0, count: width * channels * kernel) }
                    for c in 0..<channels {
                        for j in 0..<t {
                            let from = src + (c * t + j) * outChannels + o0
                            let to = out + (o0 * channels + c) * kernel + tapList[j]
                            for o in 0..<width { to[o * channels * kernel] = from[o] }
                        }
                    }
                }
            }
        }
    }

    /// Copies `count` floats with vector moves (short runs: cheaper than a memmove call).
    @inline(__always)
    static func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count { store(load(src, i), dst, i); i += 16 }
        while i < count { dst[i] = src[i]; i += 1 }
    }
}

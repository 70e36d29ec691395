// A convolution that keeps its input's size (stride 1, "same" padding) as a GEMM whose B operand
// is never materialised: `Y[Cout, P] = W[Cout, C·T] • cols[C·T, P]`, where row c·T + t of cols is
// the input's channel row c shifted by tap t's offset and masked where the window hangs over the
// padding. Each thread packs its B panels straight from the channel rows into an L1/L2-sized
// buffer, so the K × P im2col matrix (9 times the input) never travels through memory.

extension Kernels {
    /// `y[Cout, P] = w[Cout, C·T] • cols[C·T, P]` with cols implicit (see `im2colShifted`).
    ///
    /// - Parameters:
    ///   - w: the weight as the GEMM uses it, `[Cout, g.patchSize]` (taps in use only), packed.
    ///   - rows: the input as channel rows `[C, samples·H·W]`, with `g.shiftMargin` readable floats
    ///     before and after it.
    ///   - g: a shifted-copy geometry (`g.isShiftedCopy`).
    ///   - y: the result `[Cout, samples·H·W]`, overwritten.
    static func shiftedConvolution(
        weight w: PackedPanels,
        rows: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry,
        _ y: UnsafeMutablePointer<Float>
    ) {
        precondition(g.isShiftedCopy, "shiftedConvolution: the geometry is not a shifted copy")
        precondition(w.depth == g.patchSize, "shiftedConvolution: the weight's depth is not the patch size")
        let m = w.rows, p = samples * g.inPixels, k = g.patchSize
        if m == 0 || p == 0 { return }
        if k == 0 {
            y.update(repeating: 0, count: m * p)
            return
        }
        let masks = g.shiftMasks(samples: samples, forward: true)
        let shifts = g.taps.indices.map { g.shift(tap: $0) }
        let source = ShiftedColumns(rows: rows, pixels: p, taps: g.taps.count)

        let aPanels = (m + mr - 1) / mr
        // Up to four chunks of columns per thread, claimed by whichever thread is free (a thread
        // slowed by the machine takes fewer), but each at least 8 panels wide where there are
        // enough: every chunk streams all of packed A, which few columns would not repay.
        let columnPanels = (p + nr - 1) / nr
        let threads = threadsFor(work: m * p * k, threshold: 1 << 21)
        let parts = threads == 1 ? 1 : min(columnPanels, 4 * threads, max(threads, columnPanels / 8))
        masks.withUnsafeBufferPointer { maskTable in
            shifts.withUnsafeBufferPointer { shiftTable in
                let tables = UncheckedSendable((maskTable.baseAddress!, shiftTable.baseAddress!, y))
                parallelFor(chunks: parts) { part in
                    let columns = splitRange(p, parts: parts, part: part, granule: nr)
                    if columns.isEmpty { return }
                    let (masks, shifts, y) = tables.value
                    let packedB = AlignedBuffer(count: min(columnBlock, columns.count + nr) * min(depthBlock, k))
                    defer { packedB.free() }
                    // Column blocks outside, depth inside: a block of C stays in L2 while the
                    // depth blocks accumulate into it.
                    var j0 = columns.lowerBound
                    while j0 < columns.upperBound {
                        let nb = min(columnBlock, columns.upperBound - j0)
                        var p0 = 0
                        while p0 < k {
                            let kb = min(depthBlock, k - p0)
                            source.pack(
                                depth0: p0, depth: kb, column0: j0, columns: nb, masks: masks, shifts: shifts,
                                into: packedB.pointer)
                            let a = APanels(packed: w.block(depth0: p0, depth: kb, row0: 0), depth: kb)
                            let b = BPanels(
                                base: UnsafePointer(packedB.pointer), rowStride: nr, panelStep: nr * kb,
                                tail: nil, tailIndex: -1)
                            macroKernel(
                                depth: kb, a: a, panels: 0..<aPanels, rows: m, b: b, columns: nb, alpha: 1,
                                overwrite: p0 == 0, c: y + j0, ldc: p)
                            p0 += kb
                        }
                        j0 += nb
                    }
                }
            }
        }
    }

    /// The implicit im2col matrix of a shifted-copy convolution, packed panel by panel.
    struct ShiftedColumns {
        let rows: UnsafePointer<Float>
        /// Columns of the matrix (samples·H·W), also the channel rows' length.
        let pixels: Int
        let taps: Int

        /// Packs `cols[depth0 ..< depth0+depth, column0 ..< column0+columns]` into panels of `nr`
        /// columns (zero-padded), laid out as `packB` lays them out.
        @inline(__always)
        func pack(
            depth0: Int, depth kb: Int, column0: Int, columns: Int,
            masks: UnsafePointer<UInt32>, shifts: UnsafePointer<Int>, into packed: UnsafeMutablePointer<Float>
        ) {
            let fullPanels = columns / nr
            for d in 0..<kb {
                let row = depth0 + d, c = row / taps, t = row % taps
                let src = rows + c * pixels + shifts[t] + column0
                let mask = masks + t * pixels + column0
                var dst = packed + d * nr
                for panel in 0..<fullPanels {
                    let q = panel * nr
                    var j = 0
                    while j + 16 <= nr {
                        Kernels.store(Kernels.masked(Kernels.load(src, q + j), mask, q + j), dst, j)
                        j += 16
                    }
                    while j < nr { dst[j] = mask[q + j] != 0 ? src[q + j] : 0; j += 1 }
                    dst += nr * kb
                }
                let rest = columns - fullPanels * nr
                if rest > 0 {
                    let q = fullPanels * nr
                    for j in 0..<rest { dst[j] = mask[q + j] != 0 ? src[q + j] : 0 }
                    for j in rest..<nr { dst[j] = 0 }
                }
            }
        }
    }
}

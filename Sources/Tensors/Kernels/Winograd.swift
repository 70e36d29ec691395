// 3×3 stride-1 convolutions by Winograd's minimal filtering, F(2×2, 3×3) (Lavin & Gray, 2015).
//
// Each 2×2 block of output pixels (a tile) is computed from the 4×4 input patch under it:
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
// with g the 3×3 kernel, d the patch, and ⊙ an element-wise product of 4×4 matrices. Summed over
// input channels, the 16 element-wise products become 16 independent GEMMs,
//   M[ξ][Cout, P] = U[ξ][Cout, C] • V[ξ][C, P]      (ξ = 0..<16, P = tiles),
// so a tile costs 16 multiply-adds per channel pair instead of the 36 of four 3×3 windows: 2.25
// times fewer, the transforms themselves being additions only. The transforms are linear, so the
// gradients are transforms too: the weight's is `Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ V] G` (16 GEMMs over the
// tiles), and the input's is the same convolution of dY with the kernel rotated by 180° and its
// channels swapped.
//
// Transforms run on whole rows of tiles, 8 tiles per vector: the patch's even and odd input
// columns are first split into two zero-padded rows (`SplitColumns`), so tile `x` reads lane `x`
// of `even[x]`, `odd[x]`, `even[x+1]`, `odd[x+1]`: contiguous loads, no gathers.
//
// Results do not depend on the thread count: each GEMM runs on one thread, the 16 in parallel,
// and the weight gradient accumulates the batches of tiles in order.
//
// Where it is used (`WinogradGeometry.init?(_:outChannels:)`): `Tensor.conv2d` and its backward
// in training, `ChannelMajorMaps` in inference plans, the same arithmetic in both, bit for bit.

/// Eight tiles side by side.
typealias TileVec = SIMD8<Float>

/// The tiling of a 3×3, stride-1 convolution's output into 2×2 blocks.
struct WinogradGeometry: Sendable, Hashable {
    let channels: Int, height: Int, width: Int
    let padH: Int, padW: Int
    let outH: Int, outW: Int
    /// Tiles down and across one output map (the last ones may hang over its edge).
    let tilesH: Int, tilesW: Int

    init(channels: Int, height: Int, width: Int, padding: (Int, Int)) {
        self.channels = channels; self.height = height; self.width = width
        padH = padding.0; padW = padding.1
        outH = height + 2 * padding.0 - 2
        outW = width + 2 * padding.1 - 2
        tilesH = (outH + 1) / 2
        tilesW = (outW + 1) / 2
    }

    /// The geometry of `g`'s convolution, when Winograd's method suits it: a 3×3 kernel, stride
    /// 1, every tap in use, enough channels for the GEMMs to dominate, and tiles that do not waste
    /// most of the saving on the output's edges.
    init?(_ g: ConvGeometry, outChannels: Int) {
        guard g.kernelH == 3, g.kernelW == 3, g.strideH == 1, g.strideW == 1, !g.prunesTaps,
            g.padH <= 2, g.padW <= 2, g.channels >= 8, outChannels >= 8
        else { return nil }
        self.init(channels: g.channels, height: g.height, width: g.width, padding: (g.padH, g.padW))
        // 16 products per tile against 9 per output pixel: tiles hanging far over the edges eat
        // the saving. And the transforms cost per map: measured (benchmarks layers, layers224),
        // maps of 7×7 gain only with 256 channels or more, smaller ones lose.
        let wideEnough = tilesW >= 7 || (tilesW >= 4 && min(g.channels, outChannels) >= 256)
        guard wideEnough, tilesH >= 2, 16 * tilesPerMap * 4 <= 9 * outH * outW * 3 else { return nil }
        // One sample's transforms take 4 times its input and output: above 64 MB (64 channels in
        // and out on maps past 180×180), the shifted copies' footprint is worth more than the saving.
        guard 16 * (g.channels + outChannels) * tilesPerMap <= 1 << 24 else { return nil }
    }

    var tilesPerMap: Int { tilesH * tilesW }
    var inPixels: Int { height * width }
    var outPixels: Int { outH * outW }

    /// The geometry of the input gradient's convolution: dY (`outChannels` maps of `outH × outW`)
    /// convolved back to the input's size with the rotated kernel.
    func transposed(outChannels: Int) -> WinogradGeometry {
        WinogradGeometry(channels: outChannels, height: outH, width: outW, padding: (2 - padH, 2 - padW))
    }
}

extension Kernels {
    /// Samples per batch of tiles, so that `V` and `M` together stay near 16 MB.
    static func winogradSamples(_ g: WinogradGeometry, outChannels: Int, batch: Int) -> Int {
        let perSample = 16 * (g.channels + outChannels) * g.tilesPerMap
        return max(1, min(batch, (1 << 22) / max(1, perSample)))
    }

    /// `U[ξ][o, c] = (G g Gᵀ)[ξ]` for the 3×3 kernel `g = w[o, c]`, with `w` `[O, C, 3, 3]` and `u`
    /// `[16, O, C]`. With `flipped`, the kernels of the input gradient's convolution instead:
    /// `u` is `[16, C, O]` and holds the transform of `w[o, c]` rotated by 180° at `[ξ][c, o]`.
    static func winogradWeight(
        _ w: UnsafePointer<Float>, outChannels: Int, channels: Int, flipped: Bool = false,
        _ u: UnsafeMutablePointer<Float>
    ) {
        let pairs = outChannels * channels
        // Rows of each product as it is stored: `[O, C]`, or `[C, O]` when flipped. Eight
        // neighbours along a row at a time, so that the 16 stores are whole vectors (one pair at a
        // time scattered 16 floats across 16 products, far apart: TLB misses at layer sizes).
        let (rows, columns) = flipped ? (channels, outChannels) : (outChannels, channels)
        let shared = UncheckedSendable((w, u))
        let parts = min(Threads.count, max(1, pairs * 16 / channelParallelThreshold), rows)
        parallelFor(chunks: parts) { part in
            let (w, u) = shared.value
            for row in splitRange(rows, parts: parts, part: part) {
                var column = 0
                while column < columns {
                    let n = min(8, columns - column)
                    // The 3×3 kernels of the eight pairs, tap by tap (rotated when flipped).
                    var k = (TileVec(), TileVec(), TileVec(), TileVec(), TileVec(), TileVec(), TileVec(), TileVec(), TileVec())
                    withUnsafeMutableBytes(of: &k) { raw in
                        let taps = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                        for lane in 0..<n {
                            let (o, c) = flipped ? (column + lane, row) : (row, column + lane)
                            let kernel = w + (o * channels + c) * 9
                            for t in 0..<9 { taps[t * 8 + lane] = kernel[flipped ? 8 - t : t] }
                        }
                    }
                    // G g: rows g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2 (4×3); then the same on columns.
                    @inline(__always) func transform(_ a: TileVec, _ b: TileVec, _ d: TileVec) -> (TileVec, TileVec, TileVec, TileVec) {
                        (a, 0.5 * (a + b + d), 0.5 * (a - b + d), d)
                    }
                    let c0 = transform(k.0, k.3, k.6), c1 = transform(k.1, k.4, k.7), c2 = transform(k.2, k.5, k.8)
                    let destination = u + row * columns + column
                    @inline(__always) func store(_ i: Int, _ a: TileVec, _ b: TileVec, _ d: TileVec) {
                        let (x0, x1, x2, x3) = transform(a, b, d)
                        storeTiles(x0, destination + (4 * i) * pairs, n)
                        storeTiles(x1, destination + (4 * i + 1) * pairs, n)
                        storeTiles(x2, destination + (4 * i + 2) * pairs, n)
                        storeTiles(x3, destination + (4 * i + 3) * pairs, n)
                    }
                    store(0, c0.0, c1.0, c2.0)
                    store(1, c0.1, c1.1, c2.1)
                    store(2, c0.2, c1.2, c2.2)
                    store(3, c0.3, c1.3, c2.3)
                    column += 8
                }
            }
        }
    }

    /// `dw[o, c] = Gᵀ dU[·][o, c] G`: the weight gradient `[O, C, 3, 3]` from the gradient of
    /// the transformed weight, `du` `[16, O, C]`.
    static func winogradWeightGradient(
        _ du: UnsafePointer<Float>, outChannels: Int, channels: Int, _ dw: UnsafeMutablePointer<Float>
    ) {
        let pairs = outChannels * channels
        let shared = UncheckedSendable((du, dw))
        let parts = min(Threads.count, max(1, pairs * 16 / channelParallelThreshold))
        parallelFor(chunks: parts) { part in
            let (du, dw) = shared.value
            for pair in splitRange(pairs, parts: parts, part: part) {
                let source = du + pair
                // Gᵀ dU: rows u0 + (u1 + u2)/2, (u1 - u2)/2, (u1 + u2)/2 + u3; then the same on columns.
                var rows = SIMD16<Float>()
                for j in 0..<4 {
                    let u0 = source[j * pairs], u1 = source[(4 + j) * pairs]
                    let u2 = source[(8 + j) * pairs], u3 = source[(12 + j) * pairs]
                    rows[j] = u0 + 0.5 * (u1 + u2)
                    rows[4 + j] = 0.5 * (u1 - u2)
                    rows[8 + j] = 0.5 * (u1 + u2) + u3
                }
                let k = dw + pair * 9
                for i in 0..<3 {
                    let (u0, u1, u2, u3) = (rows[4 * i], rows[4 * i + 1], rows[4 * i + 2], rows[4 * i + 3])
                    k[3 * i] = u0 + 0.5 * (u1 + u2)
                    k[3 * i + 1] = 0.5 * (u1 - u2)
                    k[3 * i + 2] = 0.5 * (u1 + u2) + u3
                }
            }
        }
    }

    /// Rows of one map split into even and odd columns, zero-padded: row `a` holds map row
    /// `a - padTop`, `even[a][x] = map[a - padTop][2x - padLeft]` and `odd[a][x]` the column after,
    /// zero outside the map, for `x` in `0..<stride`.
    struct SplitColumns {
        let even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>
        let stride: Int

        /// Room for `rows` rows of `columns` entries (plus a vector's slack) at `buffer`, which
        /// holds `SplitColumns.floats(rows:columns:)` floats.
        init(_ buffer: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
            stride = Self.stride(columns)
            even = buffer
            odd = buffer + rows * stride
        }

        static func stride(_ columns: Int) -> Int { (columns + TileVec.scalarCount - 1) / 8 * 8 + 8 }
        static func floats(rows: Int, columns: Int) -> Int { 2 * rows * stride(columns) }

        /// Fills `rows` rows from the `height × width` map at `map`.
        @inline(__always)
        func fill(from map: UnsafePointer<Float>, height: Int, width: Int, rows: Int, padTop: Int, padLeft: Int) {
            even.update(repeating: 0, count: 2 * rows * stride)
            // Columns x with both 2x - padLeft and 2x + 1 - padLeft inside the row, and the
            // first x whose columns both lie past its end.
            let first = (padLeft + 1) / 2, last = max(first, min(stride, (width + padLeft) / 2))
            let end = max(last, min(stride, (width + padLeft + 1) / 2 + 1))
            for a in 0..<rows {
                let r = a - padTop
                guard r >= 0 && r < height else { continue }
                let source = map + r * width - padLeft
                let e = even + a * stride, o = odd + a * stride
                @inline(__always) func edge(_ x: Int) {
                    let c = 2 * x - padLeft
                    if c >= 0 && c < width { e[x] = source[2 * x] }
                    if c + 1 >= 0 && c + 1 < width { o[x] = source[2 * x + 1] }
                }
                for x in 0..<min(first, stride) { edge(x) }
                var x = first
                while x + 8 <= last {
                    let pair = UnsafeRawPointer(source + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(e + x).storeBytes(of: pair.evenHalf, as: TileVec.self)
                    UnsafeMutableRawPointer(o + x).storeBytes(of: pair.oddHalf, as: TileVec.self)
                    x += 8
                }
                while x < last {
                    e[x] = source[2 * x]
                    o[x] = source[2 * x + 1]
                    x += 1
                }
                for x in last..<end { edge(x) }
            }
        }
    }

    /// Stores the first `count` lanes of `v` (all 8 when `count >= 8`).
    @inline(__always)
    static func storeTiles(_ v: TileVec, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= 8 {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: TileVec.self)
        } else {
            for l in 0..<count { p[l] = v[l] }
        }
    }

    /// `a[0], b[0], a[1], b[1], …`.
    @inline(__always)
    static func interleaved(_ a: TileVec, _ b: TileVec) -> SIMD16<Float> {
        SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
    }

    @inline(__always)
    static func loadTiles(_ p: UnsafePointer<Float>) -> TileVec {
        UnsafeRawPointer(p).loadUnaligned(as: TileVec.self)
    }

    /// Calls `body(channel, sample, split)` for each of `channels × samples` maps (of `pixels`
    /// values), channel-major, split over the threads; each thread has its own `SplitColumns` of
    /// `rows × columns` for the body to fill.
    @inline(__always)
    private static func forEachSplitMap(
        channels: Int, samples: Int, pixels: Int, rows: Int, columns: Int, _ body: (Int, Int, SplitColumns) -> Void
    ) {
        let maps = samples * channels
        let parts = channelParts(maps * pixels * 4, units: maps)
        parallelFor(chunks: parts) { part in
            let scratch = AlignedBuffer(count: SplitColumns.floats(rows: rows, columns: columns))
            defer { scratch.free() }
            let split = SplitColumns(scratch.pointer, rows: rows, columns: columns)
            for map in splitRange(maps, parts: parts, part: part) { body(map / samples, map % samples, split) }
        }
    }

    /// `V[ξ][c, s·tiles + t] = (Bᵀ d B)[ξ]` for every tile `t` of every map: the input transform
    /// of `samples` samples of `channels` maps laid out by `layout` from `x`; `v` is
    /// `[16, C, samples·tiles]`.
    static func winogradInput(
        _ x: UnsafePointer<Float>, layout: PlaneLayout, samples: Int, _ g: WinogradGeometry,
        _ v: UnsafeMutablePointer<Float>
    ) {
        let tiles = g.tilesPerMap, p = samples * tiles
        let rows = 2 * g.tilesH + 2
        let shared = UncheckedSendable((x, v))
        forEachSplitMap(channels: g.channels, samples: samples, pixels: g.inPixels, rows: rows, columns: g.tilesW + 1) {
            c, s, split in
            let (x, v) = shared.value
            split.fill(
                from: x + layout.plane(sample: s, channel: c) * g.inPixels, height: g.height, width: g.width,
                rows: rows, padTop: g.padH, padLeft: g.padW)
            let out = v + c * p + s * tiles
            for ty in 0..<g.tilesH {
                let e = UnsafePointer(split.even + 2 * ty * split.stride), o = UnsafePointer(split.odd + 2 * ty * split.stride)
                let rowOut = out + ty * g.tilesW
                var tx = 0
                // Whole vectors may run into the next row of tiles, which is written after,
                // when it is at least a vector long; the last row's stop at its end (the next
                // map may be another thread's, or the next product's first).
                let overruns = ty < g.tilesH - 1 && g.tilesW >= 8
                while tx < g.tilesW {
                    let n = overruns ? 8 : g.tilesW - tx
                    // Bᵀ on the rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3), for the patch's four
                    // columns: even[x], odd[x], even[x+1], odd[x+1].
                    let st = split.stride
                    @inline(__always) func vertical(_ base: UnsafePointer<Float>) -> (TileVec, TileVec, TileVec, TileVec) {
                        let d0 = loadTiles(base), d1 = loadTiles(base + st), d2 = loadTiles(base + 2 * st), d3 = loadTiles(base + 3 * st)
                        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    }
                    let c0 = vertical(e + tx), c1 = vertical(o + tx), c2 = vertical(e + tx + 1), c3 = vertical(o + tx + 1)
                    // Bᵀ on the columns of each row i: c0 - c2, c1 + c2, c2 - c1, c1 - c3.
                    @inline(__always) func horizontal(_ i: Int, _ a: TileVec, _ b: TileVec, _ cc: TileVec, _ d: TileVec) {
                        let base = rowOut + tx + 4 * i * g.channels * p
                        storeTiles(a - cc, base, n)
                        storeTiles(b + cc, base + g.channels * p, n)
                        storeTiles(cc - b, base + 2 * g.channels * p, n)
                        storeTiles(b - d, base + 3 * g.channels * p, n)
                    }
                    horizontal(0, c0.0, c1.0, c2.0, c3.0)
                    horizontal(1, c0.1, c1.1, c2.1, c3.1)
                    horizontal(2, c0.2, c1.2, c2.2, c3.2)
                    horizontal(3, c0.3, c1.3, c2.3, c3.3)
                    tx += 8
                }
            }
        }
    }

    /// `out = epilogue(Aᵀ M A)`: each tile's 2×2 output pixels from its 16 products, `m`
    /// `[16, O, samples·tiles]` (readable 8 floats past its end), into `samples` samples of `O` maps
    /// of `outH × outW` laid out by `layout` at `out`. The epilogue (its residual laid out as `out`,
    /// from the first of these samples) is applied map by map as `channelRowsToNCHW` applies it.
    static func winogradOutput(
        _ m: UnsafePointer<Float>, samples: Int, outChannels: Int, _ g: WinogradGeometry,
        epilogue: ChannelEpilogue, _ out: UnsafeMutablePointer<Float>, layout: PlaneLayout
    ) {
        let tiles = g.tilesPerMap, p = samples * tiles, maps = samples * outChannels
        let tileStride = outChannels * p
        // A map's tiles, 2 rows of 2·tilesW (rounded up to whole vectors) per row of tiles.
        let rowStride = 2 * ((g.tilesW + 7) / 8 * 8)
        let shared = UncheckedSendable((m, out, epilogue))
        let parts = channelParts(maps * g.outPixels * 4, units: maps)
        parallelFor(chunks: parts) { part in
            let (m, out, e) = shared.value
            let scratch = AlignedBuffer(count: 2 * g.tilesH * rowStride + g.outPixels)
            defer { scratch.free() }
            let blocks = scratch.pointer, compact = scratch.pointer + 2 * g.tilesH * rowStride
            for map in splitRange(maps, parts: parts, part: part) {
                let o = map / samples, s = map % samples
                let source = m + o * p + s * tiles
                for ty in 0..<g.tilesH {
                    let row = source + ty * g.tilesW
                    let top = blocks + 2 * ty * rowStride, bottom = top + rowStride
                    var tx = 0
                    while tx < g.tilesW {
                        @inline(__always) func product(_ i: Int, _ j: Int) -> TileVec { loadTiles(row + tx + (4 * i + j) * tileStride) }
                        // Aᵀ on the rows (m0 + m1 + m2, m1 - m2 - m3), then on the columns.
                        var a = (TileVec(), TileVec(), TileVec(), TileVec()), b = a
                        @inline(__always) func column(_ j: Int) -> (TileVec, TileVec) {
                            let m0 = product(0, j), m1 = product(1, j), m2 = product(2, j), m3 = product(3, j)
                            return (m0 + m1 + m2, m1 - m2 - m3)
                        }
                        (a.0, b.0) = column(0)
                        (a.1, b.1) = column(1)
                        (a.2, b.2) = column(2)
                        (a.3, b.3) = column(3)
                        let y00 = a.0 + a.1 + a.2, y01 = a.1 - a.2 - a.3
                        let y10 = b.0 + b.1 + b.2, y11 = b.1 - b.2 - b.3
                        UnsafeMutableRawPointer(top + 2 * tx).storeBytes(of: interleaved(y00, y01), as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(bottom + 2 * tx).storeBytes(of: interleaved(y10, y11), as: SIMD16<Float>.self)
                        tx += 8
                    }
                }
                for y in 0..<g.outH { copyFloats(blocks + y * rowStride, compact + y * g.outW, g.outW) }
                let offset = layout.plane(sample: s, channel: o) * g.outPixels
                applyEpilogue(
                    e, channel: o, compact, out + offset, residual: e.residual.map { $0 + offset }, pixels: g.outPixels)
            }
        }
    }

    /// `dM[ξ][o, s·tiles + t] = (A dY Aᵀ)[ξ]` for each tile's 2×2 block of the output gradient:
    /// the gradient of the 16 products from `dy`, `samples` samples of `O` maps of `outH × outW`
    /// (NCHW); `dm` is `[16, O, samples·tiles]`.
    static func winogradOutputGradient(
        _ dy: UnsafePointer<Float>, samples: Int, outChannels: Int, _ g: WinogradGeometry,
        _ dm: UnsafeMutablePointer<Float>
    ) {
        let tiles = g.tilesPerMap, p = samples * tiles
        let tileStride = outChannels * p
        let rows = 2 * g.tilesH
        let shared = UncheckedSendable((dy, dm))
        forEachSplitMap(channels: outChannels, samples: samples, pixels: g.outPixels, rows: rows, columns: g.tilesW) {
            o, s, split in
            let (dy, dm) = shared.value
            split.fill(
                from: dy + (s * outChannels + o) * g.outPixels, height: g.outH, width: g.outW,
                rows: rows, padTop: 0, padLeft: 0)
            let out = dm + o * p + s * tiles
            for ty in 0..<g.tilesH {
                let e = UnsafePointer(split.even + 2 * ty * split.stride), od = UnsafePointer(split.odd + 2 * ty * split.stride)
                let rowOut = out + ty * g.tilesW
                var tx = 0
                let overruns = ty < g.tilesH - 1 && g.tilesW >= 8  // as in `winogradInput`
                while tx < g.tilesW {
                    let n = overruns ? 8 : g.tilesW - tx
                    let e0 = loadTiles(e + tx), o0 = loadTiles(od + tx)
                    let e1 = loadTiles(e + split.stride + tx), o1 = loadTiles(od + split.stride + tx)
                    // A on the rows (y0, y0 + y1, y0 - y1, -y1), then on the columns.
                    @inline(__always) func horizontal(_ i: Int, _ a: TileVec, _ b: TileVec) {
                        let base = rowOut + tx + 4 * i * tileStride
                        storeTiles(a, base, n)
                        storeTiles(a + b, base + tileStride, n)
                        storeTiles(a - b, base + 2 * tileStride, n)
                        storeTiles(-b, base + 3 * tileStride, n)
                    }
                    horizontal(0, e0, o0)
                    horizontal(1, e0 + e1, o0 + o1)
                    horizontal(2, e0 - e1, o0 - o1)
                    horizontal(3, -e1, -o1)
                    tx += 8
                }
            }
        }
    }

    /// `m[ξ] = u[ξ] • v[ξ]` for the 16 products: `u` `[16, O, C]`, `v` `[16, C, P]`, `m`
    /// `[16, O, P]`; one GEMM per thread at a time, so the bits do not depend on the thread count.
    static func winogradProducts(
        _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, rows: Int, depth: Int, columns: Int,
        _ m: UnsafeMutablePointer<Float>
    ) {
        let shared = UncheckedSendable((u, v, m))
        parallelFor(chunks: 16) { xi in
            let (u, v, m) = shared.value
            sgemm(
                transA: false, transB: false, m: rows, n: columns, k: depth,
                a: u + xi * rows * depth, lda: depth, b: v + xi * depth * columns, ldb: columns,
                c: m + xi * rows * columns, ldc: columns, threads: 1)
        }
    }

    /// A 3×3, stride-1 convolution of `samples` samples at `x` (laid out by `layout`, `g.channels`
    /// maps each) with the transformed weight `u` (`winogradWeight`, `[16, O, C]`), written to
    /// `out` (laid out by `outLayout`) through `epilogue`, batch of tiles by batch of tiles.
    static func winogradConvolution(
        _ x: UnsafePointer<Float>, layout: PlaneLayout, samples n: Int, _ g: WinogradGeometry,
        weight u: UnsafePointer<Float>, outChannels: Int, epilogue: ChannelEpilogue,
        _ out: UnsafeMutablePointer<Float>, outLayout: PlaneLayout
    ) {
        if n == 0 || outChannels == 0 { return }
        let batch = winogradSamples(g, outChannels: outChannels, batch: n)
        let v = AlignedBuffer(count: 16 * g.channels * batch * g.tilesPerMap)
        let m = AlignedBuffer(count: 16 * outChannels * batch * g.tilesPerMap + 8)
        defer { v.free(); m.free() }
        var s0 = 0
        while s0 < n {
            let t = min(batch, n - s0), p = t * g.tilesPerMap
            winogradInput(x + layout.plane(sample: s0, channel: 0) * g.inPixels, layout: layout, samples: t, g, v.pointer)
            winogradProducts(u, v.pointer, rows: outChannels, depth: g.channels, columns: p, m.pointer)
            let offset = outLayout.plane(sample: s0, channel: 0) * g.outPixels
            var tileEpilogue = epilogue
            tileEpilogue.residual = epilogue.residual.map { $0 + offset }
            winogradOutput(m.pointer, samples: t, outChannels: outChannels, g, epilogue: tileEpilogue, out + offset, layout: outLayout)
            s0 += t
        }
    }

    /// The gradients of `winogradConvolution` (NCHW, no epilogue) with respect to its input and
    /// weight, each when asked for: `dx` `[N, C, H, W]` is written; `dw` `[O, C, 3, 3]` is written.
    ///
    /// - Parameters:
    ///   - dy: the output's gradient, `[N, O, outH, outW]`.
    ///   - x: the input, `[N, C, H, W]` (read for `dw` only).
    ///   - weight: the untransformed weight `[O, C, 3, 3]` (read for `dx` only).
    static func winogradBackward(
        _ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, samples n: Int,
        _ g: WinogradGeometry, outChannels: Int,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?
    ) {
        let (c, o) = (g.channels, outChannels)
        let gT = g.transposed(outChannels: o)
        let tiles = max(g.tilesPerMap, gT.tilesPerMap)
        let batch = g.tilesPerMap >= gT.tilesPerMap ? winogradSamples(g, outChannels: o, batch: n) : winogradSamples(gT, outChannels: c, batch: n)
        // Forward input transform V and, for dx, the products M' ([16, C, ·] both); dM and, for
        // dx, the transform V' of dY ([16, O, ·] both).
        let channelSide = AlignedBuffer(count: 16 * c * batch * tiles + 8)
        let outSide = AlignedBuffer(count: 16 * o * batch * tiles + 8)
        let du = AlignedBuffer(count: dw == nil ? 1 : 16 * o * c)
        let flipped = AlignedBuffer(count: dx == nil ? 1 : 16 * c * o)
        defer { channelSide.free(); outSide.free(); du.free(); flipped.free() }
        if dx != nil { winogradWeight(weight, outChannels: o, channels: c, flipped: true, flipped.pointer) }
        var s0 = 0
        while s0 < n {
            let t = min(batch, n - s0)
            let dyTile = dy + s0 * o * g.outPixels
            if dw != nil {
                let p = t * g.tilesPerMap
                winogradInput(x + s0 * c * g.inPixels, layout: .nchw(channels: c), samples: t, g, channelSide.pointer)
                winogradOutputGradient(dyTile, samples: t, outChannels: o, g, outSide.pointer)
                // dU[ξ][O, C] += dM[ξ][O, P] • V[ξ][C, P]ᵀ
                let shared = UncheckedSendable((outSide.pointer, channelSide.pointer, du.pointer))
                let beta: Float = s0 == 0 ? 0 : 1
                parallelFor(chunks: 16) { xi in
                    let (dm, v, du) = shared.value
                    sgemm(
                        transA: false, transB: true, m: o, n: c, k: p,
                        a: dm + xi * o * p, lda: p, b: v + xi * c * p, ldb: p,
                        beta: beta, c: du + xi * o * c, ldc: c, threads: 1)
                }
            }
            if let dx {
                let p = t * gT.tilesPerMap
                winogradInput(dyTile, layout: .nchw(channels: o), samples: t, gT, outSide.pointer)
                winogradProducts(flipped.pointer, outSide.pointer, rows: c, depth: o, columns: p, channelSide.pointer)
                winogradOutput(
                    channelSide.pointer, samples: t, outChannels: c, gT, epilogue: ChannelEpilogue(),
                    dx + s0 * c * g.inPixels, layout: .nchw(channels: c))
            }
            s0 += t
        }
        if let dw { winogradWeightGradient(du.pointer, outChannels: o, channels: c, dw) }
    }
}

// SGEMM: C = alpha * op(A) * op(B) + beta * C on row-major Float matrices.
//
// The structure follows the BLIS/GotoBLAS design:
//   for each block of A rows  (up to `rowBlock` rows)
//     for each slice of K       (`depthBlock` deep)
//       pack op(A)[rows, slice] into panels of `mr` rows (shared by all threads)
//       each thread, for each block of C columns it owns (`columnBlock` wide):
//         pack op(B)[slice, columns] into panels of `nr` columns (stays in that core's L2)
//         for each A panel (stays in L1), for each B panel: the mr x nr micro-kernel
// Transposed operands are handled by the packing routines, which read them in place.

extension Kernels {
    #if FASTSWIFT_PORTABLE
    /// Rows of the register tile (broadcast from packed A): 6 in a portable build (16 SSE registers).
    static let mr = 6
    /// Columns of the register tile: one 8-lane vector (two SSE registers) in a portable build.
    static let nr = 8
    #elseif FASTSWIFT_AVX512
    /// Rows of the register tile (broadcast from packed A): 12 with 32 AVX-512 registers.
    static let mr = 12
    /// Columns of the register tile (two 16-lane vectors from packed B).
    static let nr = 32
    #else
    /// Rows of the register tile (broadcast from packed A): 6 with 16 AVX2 registers (or NEON's 32).
    static let mr = 6
    /// Columns of the register tile (two 8-lane vectors from packed B).
    static let nr = 16
    #endif
    /// Depth of one packed slice of K.
    static let depthBlock = 256
    /// Columns of C one thread packs and sweeps at a time (its packed B fills about half of L2).
    static let columnBlock = 512
    /// Rows of A packed at a time (shared across threads, lives in L3).
    static let rowBlock = 3072
    /// Up to this many rows of A, a non-transposed B is read in place rather than packed: each
    /// packed element would serve too few rows to repay its copy (convolutions' Cout × pixels).
    static let directBRowLimit = 128
    /// Up to this many columns of C, a non-transposed A is read in place rather than packed
    /// (never in a portable build, whose micro-kernel reads A with constant strides).
    #if FASTSWIFT_PORTABLE
    static let directAColumnLimit = 0
    #else
    static let directAColumnLimit = 256
    #endif

    /// Single-precision matrix multiply: `C = alpha * op(A) * op(B) + beta * C`, row-major.
    ///
    /// `op(A)` is `m × k`: `A` itself (`transA == false`, stored `m × k` with row stride `lda`) or
    /// the transpose of a `k × m` matrix (`transA == true`). Likewise `op(B)` is `k × n`. `C` is
    /// `m × n` with row stride `ldc`. When `beta == 0`, `C` is only written, never read, so it may
    /// hold garbage. Transposed operands are read in place, never copied whole.
    ///
    /// - Parameters:
    ///   - transA: whether `op(A)` is A transposed.
    ///   - transB: whether `op(B)` is B transposed.
    ///   - m: the rows of `op(A)` and C.
    ///   - n: the columns of `op(B)` and C.
    ///   - k: the columns of `op(A)`, the rows of `op(B)`.
    ///   - alpha: the product's factor.
    ///   - a: A's first element.
    ///   - lda: A's row stride.
    ///   - b: B's first element.
    ///   - ldb: B's row stride.
    ///   - beta: C's factor before the product is added (0: C is overwritten).
    ///   - c: C's first element.
    ///   - ldc: C's row stride.
    ///   - threads: how many threads to use; by default `Threads.count` for large products
    ///     and one for small ones.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(ldc >= n, "sgemm: ldc=\(ldc) is smaller than n=\(n)")
        precondition(lda >= (transA ? m : k) || (transA ? k : m) <= 1, "sgemm: lda=\(lda) is too small")
        precondition(ldb >= (transB ? k : n) || (transB ? n : k) <= 1, "sgemm: ldb=\(ldb) is too small")
        if m == 0 || n == 0 { return }
        KernelBuild.noticeOnce
        let work = m * n * max(k, 1)
        let threadCount = max(1, threads ?? threadsFor(work: work, threshold: 1 << 21))
        let packed = k > 0 && alpha != 0 && n > 1 && m > 1
        // The packed path writes C on its first depth block when beta is 0, so C needs no zeroing.
        if !(packed && beta == 0) { scale(c, rows: m, columns: n, ldc: ldc, by: beta, threads: threadCount) }
        if k == 0 || alpha == 0 { return }

        if n == 1 {
            // y = op(A) x, with x the single column of op(B).
            gemv(
                trans: transA, rows: m, columns: k, alpha: alpha, a: a, lda: lda,
                x: b, incx: transB ? 1 : ldb, y: c, incy: ldc, threads: threadCount)
        } else if m == 1 {
            // yᵀ = xᵀ op(B)  <=>  y = op(B)ᵀ x, with x the single row of op(A).
            gemv(
                trans: !transB, rows: n, columns: k, alpha: alpha, a: b, lda: ldb,
                x: a, incx: transA ? lda : 1, y: c, incy: 1, threads: threadCount)
        } else {
            packedGEMM(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, overwrite: beta == 0, c: c, ldc: ldc, threads: threadCount)
        }
    }

    /// C = beta * C before the products are accumulated into it.
    static func scale(
        _ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int,
        by beta: Float, threads: Int
    ) {
        if beta == 1 { return }
        let cs = UncheckedSendable(c)
        let parts = min(threads, rows)
        parallelFor(chunks: parts) { part in
            for i in splitRange(rows, parts: parts, part: part) {
                let row = cs.value + i * ldc
                if beta == 0 {
                    row.update(repeating: 0, count: columns)
                } else {
                    scaleInPlace(row, count: columns, by: beta)
                }
            }
        }
    }

    // MARK: - The packed, blocked path

    /// Products up to this many multiply-adds give each thread its own block of C, packing its
    /// own panels: one dispatch per product, which matters more than the duplicated packing
    /// for the layer-sized products of a training step. Larger ones share packed A panels,
    /// unless the operand each thread would pack again is small (`duplicatedPackingLimit`
    /// floats): then sharing costs more in barriers (two per depth block) than it saves.
    static let independentSweepLimit = 1 << 26
    static let duplicatedPackingLimit = 1 << 22

    /// `C (+)= alpha * op(A) op(B)`: with `overwrite`, C is written on the first depth block
    /// (its old contents ignored), otherwise accumulated into.
    private static func packedGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, overwrite: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        if threads == 1 || m * n * k <= independentSweepLimit || min(m, n) * k < duplicatedPackingLimit {
            independentSweeps(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                prepacked: nil, b: b, ldb: ldb, overwrite: overwrite, c: c, ldc: ldc, threads: threads)
            return
        }
        sharedPanelGEMM(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, overwrite: overwrite, c: c, ldc: ldc, threads: threads)
    }

    /// Each thread sweeps its own block of C (rows or columns, whichever operand is cheaper to
    /// pack twice and has enough panels), packing its own panels unless A comes `prepacked`.
    private static func independentSweeps(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, prepacked: PackedPanels?, b: UnsafePointer<Float>, ldb: Int, overwrite: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        let rowPanels = (m + mr - 1) / mr, columnPanels = (n + nr - 1) / nr
        let splitColumns = columnPanels >= threads && (m <= n || rowPanels < threads)
        let parts = min(threads, splitColumns ? columnPanels : rowPanels)
        let shared = UncheckedSendable((a: a, b: b, c: c, prepacked: prepacked))
        parallelFor(chunks: parts) { t in
            let s = shared.value
            let rows = splitColumns ? 0..<m : splitRange(m, parts: parts, part: t, granule: mr)
            let columns = splitColumns ? splitRange(n, parts: parts, part: t, granule: nr) : 0..<n
            sweep(
                transA: transA, transB: transB, rows: rows, columns: columns, k: k, alpha: alpha,
                a: s.a, lda: lda, prepacked: s.prepacked, b: s.b, ldb: ldb, overwrite: overwrite, c: s.c, ldc: ldc)
        }
    }

    /// `C = A · B` with A packed ahead of time: `a` is `rows × depth`, B is `depth × n` with row
    /// stride `ldb`, C is `rows × n` with row stride `ldc`, overwritten. The same arithmetic as
    /// `sgemm` on the unpacked A, without packing A again: bit-identical results, except that a
    /// single row or column also goes through the micro-kernel (`sgemm` gives those to `gemv`).
    ///
    /// - Parameter threads: as in `sgemm`.
    static func sgemm(
        packed a: PackedPanels, n: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
    ) {
        precondition(n >= 0 && ldc >= n && (ldb >= n || a.depth <= 1), "sgemm(packed:): bad sizes n=\(n) ldb=\(ldb) ldc=\(ldc)")
        let (m, k) = (a.rows, a.depth)
        if m == 0 || n == 0 { return }
        let threadCount = max(1, threads ?? threadsFor(work: m * n * max(k, 1), threshold: 1 << 21))
        if k == 0 { return scale(c, rows: m, columns: n, ldc: ldc, by: 0, threads: threadCount) }
        independentSweeps(
            transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a.block(depth0: 0, depth: 0, row0: 0),
            lda: k, prepacked: a, b: b, ldb: ldb, overwrite: true, c: c, ldc: ldc, threads: threadCount)
    }

    /// A matrix (`rows × depth`, row-major) packed once into the micro-kernel's row panels, depth
    /// block by depth block, for products that reuse it (a convolution's weight): the block at
    /// depth `p0` holds all the row panels of `A[:, p0 ..< p0 + kb]`, each laid out as `packA` lays it.
    final class PackedPanels: @unchecked Sendable {
        /// The matrix's size.
        let rows: Int, depth: Int
        private let buffer: AlignedBuffer

        /// Packs `a` (`rows × depth`, row stride `lda`), the depth blocks spread over the threads;
        /// with `transposed`, `a` is stored `depth × rows` (row stride `lda`) and its transpose is packed.
        init(_ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int, transposed: Bool = false) {
            precondition(
                rows >= 0 && depth >= 0 && (lda >= (transposed ? rows : depth) || (transposed ? depth : rows) <= 1), "PackedPanels: bad sizes")
            self.rows = rows
            self.depth = depth
            let panels = (rows + mr - 1) / mr
            buffer = AlignedBuffer(count: panels * mr * depth)
            // The threads split the row panels (every depth block of each), so a weight of one
            // depth block packs on all of them too.
            let parts = min(Threads.count, max(1, rows * depth / channelParallelThreshold), panels)
            let shared = UncheckedSendable((a, buffer.pointer))
            parallelFor(chunks: parts) { part in
                let range = splitRange(panels, parts: parts, part: part)
                var p0 = 0
                while p0 < depth {
                    let kb = min(depthBlock, depth - p0)
                    packA(
                        transA: transposed, a: shared.value.0, lda: lda, row0: 0, rows: rows, depth0: p0, depth: kb,
                        panels: range, into: shared.value.1 + panels * mr * p0)
                    p0 += kb
                }
            }
        }

        deinit { buffer.free() }

        /// The panels of the depth block starting at `depth0` (`kb` deep), from the panel that
        /// holds row `row0` (a multiple of `mr`) on.
        func block(depth0: Int, depth kb: Int, row0: Int) -> UnsafePointer<Float> {
            UnsafePointer(buffer.pointer + (rows + mr - 1) / mr * mr * depth0 + row0 / mr * mr * kb)
        }
    }

    /// `C[rows, columns] += alpha * op(A)[rows, :] op(B)[:, columns]` on the calling thread,
    /// with its own packed panels.
    /// With `prepacked`, A's panels are read from it (`a` and `lda` unused).
    private static func sweep(
        transA: Bool, transB: Bool, rows: Range<Int>, columns: Range<Int>, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, prepacked: PackedPanels? = nil,
        b: UnsafePointer<Float>, ldb: Int, overwrite: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if rows.isEmpty || columns.isEmpty { return }
        let kc = min(depthBlock, k)
        let rowsPerBlock = min(rowBlock, rows.count), columnsPerBlock = min(columnBlock, columns.count)
        let packedA = AlignedBuffer(count: prepacked != nil ? 1 : (rowsPerBlock + mr - 1) / mr * mr * kc)
        let packedB = AlignedBuffer(count: (columnsPerBlock + nr - 1) / nr * nr * kc)
        defer { packedA.free(); packedB.free() }
        // A non-transposed A serving few columns is read in place (its rows are the
        // micro-kernel's `mr` broadcast streams): packing would copy each element for few reuses
        // (a convolution's weight gradient, K × Cout). Row strides of a multiple of 4 KB would
        // put all 12 rows in one L1 set, so those are packed.
        let directA = prepacked == nil && !transA && columns.count <= directAColumnLimit && lda % 1024 != 0
        var i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let mb = min(rowsPerBlock, rows.upperBound - i0)
            let panels = (mb + mr - 1) / mr, fullPanels = directA ? mb / mr : 0
            var p0 = 0
            while p0 < k {
                let kb = min(kc, k - p0)
                let source: APanels
                if let prepacked {
                    source = APanels(packed: prepacked.block(depth0: p0, depth: kb, row0: i0), depth: kb)
                } else {
                    packA(
                        transA: transA, a: a, lda: lda, row0: i0, rows: mb, depth0: p0, depth: kb,
                        panels: fullPanels..<panels, into: packedA.pointer)
                    source = APanels(
                        direct: a + i0 * lda + p0, lda: lda, directPanels: fullPanels,
                        packed: UnsafePointer(packedA.pointer), depth: kb)
                }
                var j0 = columns.lowerBound
                while j0 < columns.upperBound {
                    let nb = min(columnsPerBlock, columns.upperBound - j0)
                    let bSource = bPanels(
                        transB: transB, b: b, ldb: ldb, depth0: p0, depth: kb, column0: j0, columns: nb,
                        direct: rows.count <= directBRowLimit, packed: packedB.pointer)
                    macroKernel(
                        depth: kb, a: source, panels: 0..<panels, rows: mb,
                        b: bSource, columns: nb, alpha: alpha, overwrite: overwrite && p0 == 0, c: c + i0 * ldc + j0, ldc: ldc)
                    j0 += nb
                }
                p0 += kb
            }
            i0 += mb
        }
    }

    /// Large products on several threads: each block of A is packed once, by all threads
    /// together, and shared; each thread then packs its own columns of B.
    private static func sharedPanelGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, overwrite: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        let kc = min(depthBlock, k)
        let rowsPerBlock = min(rowBlock, m)
        let aPanels = (rowsPerBlock + mr - 1) / mr
        let packedA = AlignedBuffer(count: aPanels * mr * kc)
        defer { packedA.free() }

        // Split the columns between threads when there are enough of them; otherwise split rows.
        let columnPanels = (n + nr - 1) / nr
        let splitColumns = columnPanels >= 2 * threads || m < 2 * mr * threads
        let nbMax = splitColumns ? min(columnBlock, ((n + threads - 1) / threads + nr - 1) / nr * nr) : min(columnBlock, columnPanels * nr)
        let packedB = (0..<threads).map { _ in AlignedBuffer(count: nbMax * kc) }
        defer { packedB.forEach { $0.free() } }

        let shared = UncheckedSendable((a: a, b: b, c: c, packedA: packedA, packedB: packedB))
        var i0 = 0
        while i0 < m {
            let mb = min(rowsPerBlock, m - i0)
            let panels = (mb + mr - 1) / mr
            var p0 = 0
            while p0 < k {
                let kb = min(kc, k - p0)
                // Phase 1: pack this block of A, the threads sharing its panels.
                let packThreads = min(threads, panels)
                parallelFor(chunks: packThreads) { part in
                    let range = splitRange(panels, parts: packThreads, part: part)
                    packA(
                        transA: transA, a: shared.value.a, lda: lda, row0: i0, rows: mb, depth0: p0, depth: kb,
                        panels: range, into: shared.value.packedA.pointer)
                }
                // Phase 2: each thread sweeps its share of C.
                parallelFor(chunks: threads) { t in
                    let s = shared.value
                    let columns = splitColumns ? splitRange(n, parts: threads, part: t, granule: nr) : 0..<n
                    let panelRange = splitColumns ? 0..<panels : splitRange(panels, parts: threads, part: t)
                    if columns.isEmpty || panelRange.isEmpty { return }
                    var j0 = columns.lowerBound
                    while j0 < columns.upperBound {
                        let nb = min(nbMax, columns.upperBound - j0)
                        let source = bPanels(
                            transB: transB, b: s.b, ldb: ldb, depth0: p0, depth: kb, column0: j0, columns: nb,
                            direct: mb <= directBRowLimit, packed: s.packedB[t].pointer)
                        macroKernel(
                            depth: kb, a: APanels(packed: UnsafePointer(s.packedA.pointer), depth: kb),
                            panels: panelRange, rows: mb,
                            b: source, columns: nb, alpha: alpha, overwrite: overwrite && p0 == 0,
                            c: s.c + i0 * ldc + j0, ldc: ldc)
                        j0 += nb
                    }
                }
                p0 += kb
            }
            i0 += mb
        }
    }

    /// Where the micro-kernel finds the B panels of one block: packed panels (`rowStride == nr`),
    /// or B itself read in place (`rowStride == ldb`), with a packed copy of a last partial panel.
    struct BPanels {
        let base: UnsafePointer<Float>
        let rowStride: Int, panelStep: Int
        /// A zero-padded copy of the last panel when B is read in place and it is partial.
        let tail: UnsafePointer<Float>?
        let tailIndex: Int

        @inline(__always)
        func panel(_ jp: Int) -> (UnsafePointer<Float>, Int) {
            if let tail, jp == tailIndex { return (tail, nr) }
            return (base + jp * panelStep, rowStride)
        }

        /// True when B is read in place rather than from packed panels.
        var readsInPlace: Bool { rowStride != nr }
    }

    /// Where the micro-kernel finds the A panels of one block: packed panels (element (r, p) at
    /// `12p + r`), or, for the first `directPanels`, A itself read in place (at `r·lda + p`).
    struct APanels {
        var direct: UnsafePointer<Float>? = nil
        var lda = 0, directPanels = 0
        let packed: UnsafePointer<Float>
        let depth: Int

        /// Panel `ip`'s first element and its (row, depth) strides.
        @inline(__always)
        func panel(_ ip: Int) -> (UnsafePointer<Float>, Int, Int) {
            if let direct, ip < directPanels { return (direct + ip * mr * lda, lda, 1) }
            return (packed + ip * mr * depth, 1, mr)
        }
    }

    /// Runs the micro-kernel over every (A panel, B panel) pair of one block.
    @inline(__always)
    static func macroKernel(
        depth kc: Int, a: APanels, panels: Range<Int>, rows: Int,
        b: BPanels, columns: Int, alpha: Float, overwrite: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let bPanels = (columns + nr - 1) / nr
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { edge in
            let edgeTile = edge.baseAddress!
            @inline(__always) func tile(_ ip: Int, _ jp: Int) {
                let (aPanel, aRowStride, aDepthStride) = a.panel(ip)
                let tileRows = min(mr, rows - ip * mr)
                let (bPanel, bStride) = b.panel(jp)
                let tileColumns = min(nr, columns - jp * nr)
                let cTile = c + ip * mr * ldc + jp * nr
                if aDepthStride == 1 {
                    // A read in place: only whole panels are (tileRows == mr).
                    if tileColumns == nr {
                        microKernel(kc, aPanel, aRowStride, 1, bPanel, bStride, cTile, ldc, alpha, overwrite: overwrite)
                    } else {
                        microKernel(kc, aPanel, aRowStride, 1, bPanel, bStride, edgeTile, nr, alpha, overwrite: true)
                        addEdge(edgeTile, rows: tileRows, columns: tileColumns, into: cTile, ldc: ldc, overwrite: overwrite)
                    }
                } else if tileRows == mr && tileColumns == nr {
                    microKernel(kc, aPanel, 1, mr, bPanel, bStride, cTile, ldc, alpha, overwrite: overwrite)
                } else {
                    microKernel(kc, aPanel, 1, mr, bPanel, bStride, edgeTile, nr, alpha, overwrite: true)
                    addEdge(edgeTile, rows: tileRows, columns: tileColumns, into: cTile, ldc: ldc, overwrite: overwrite)
                }
            }
            if b.readsInPlace {
                // B read in place has rows too far apart for the hardware to prefetch: each B
                // panel stays in L1 while every A panel passes over it.
                for jp in 0..<bPanels { for ip in panels { tile(ip, jp) } }
            } else {
                // Packed B streams well from L2: each A panel stays in L1 instead.
                for ip in panels { for jp in 0..<bPanels { tile(ip, jp) } }
            }
        }
    }

    /// Writes (or adds) the top-left `rows × columns` of an `mr × nr` edge tile into C.
    @inline(__always)
    private static func addEdge(
        _ edgeTile: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        into cTile: UnsafeMutablePointer<Float>, ldc: Int, overwrite: Bool
    ) {
        for r in 0..<rows {
            let src = edgeTile + r * nr, dst = cTile + r * ldc
            if overwrite {
                for j in 0..<columns { dst[j] = src[j] }
            } else {
                for j in 0..<columns { dst[j] += src[j] }
            }
        }
    }

    /// B panels for `op(B)[depth0..., column0 ..< column0+columns]`: read in place when B is not
    /// transposed and few rows of A will reuse them (packing would cost more than it saves),
    /// otherwise packed into `packed`.
    @inline(__always)
    static func bPanels(
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, depth0: Int, depth kb: Int, column0: Int, columns: Int,
        direct: Bool, packed: UnsafeMutablePointer<Float>
    ) -> BPanels {
        if direct && !transB {
            let full = columns / nr
            let base = b + depth0 * ldb + column0
            var tail: UnsafePointer<Float>?
            if full * nr < columns {
                packB(
                    transB: false, b: b, ldb: ldb, depth0: depth0, depth: kb, column0: column0 + full * nr,
                    columns: columns - full * nr, into: packed)
                tail = UnsafePointer(packed)
            }
            return BPanels(base: base, rowStride: ldb, panelStep: nr, tail: tail, tailIndex: full)
        }
        packB(transB: transB, b: b, ldb: ldb, depth0: depth0, depth: kb, column0: column0, columns: columns, into: packed)
        return BPanels(base: UnsafePointer(packed), rowStride: nr, panelStep: nr * kb, tail: nil, tailIndex: -1)
    }

    /// Packs `op(A)[row0 ..< row0+rows, depth0 ..< depth0+depth]` into panels of `mr` rows:
    /// panel `p` holds, for each depth index, its `mr` row values side by side (zero-padded).
    @inline(__always)
    static func packA(
        transA: Bool, a: UnsafePointer<Float>, lda: Int, row0: Int, rows: Int,
        depth0: Int, depth kb: Int, panels: Range<Int>, into packed: UnsafeMutablePointer<Float>
    ) {
        for panel in panels {
            let dst = packed + panel * mr * kb
            let first = row0 + panel * mr
            let count = min(mr, rows - panel * mr)
            if transA {
                // op(A)[i, p] = a[p * lda + i]: each depth index gives `count` contiguous values.
                for p in 0..<kb {
                    let src = a + (depth0 + p) * lda + first
                    let d = dst + p * mr
                    for r in 0..<count { d[r] = src[r] }
                    for r in count..<mr { d[r] = 0 }
                }
            } else {
                // op(A)[i, p] = a[i * lda + p]: read each row contiguously, write with stride mr.
                transposeRows(a + first * lda + depth0, ld: lda, rows: count, depth: kb, dst, stride: mr)
                if count < mr {
                    for p in 0..<kb { for r in count..<mr { dst[p * mr + r] = 0 } }
                }
            }
        }
    }

    /// `dst[p * stride + i] = src[i * ld + p]` for `rows` rows `i` of `depth` values: packing's
    /// transposing copy, eight rows at a time through registers, the rest value by value.
    @inline(__always)
    static func transposeRows(
        _ src: UnsafePointer<Float>, ld: Int, rows: Int, depth: Int, _ dst: UnsafeMutablePointer<Float>, stride: Int
    ) {
        var i = 0
        while i + 8 <= rows {
            transposeEightRows(src + i * ld, ld: ld, depth: depth, dst + i, stride: stride)
            i += 8
        }
        for i in i..<rows {
            let row = src + i * ld
            for p in 0..<depth { dst[p * stride + i] = row[p] }
        }
    }

    /// `transposeRows` for 8 rows: 8×8 blocks at a time in registers (three rounds of
    /// interleaving rows i and i + 4, each a perfect shuffle of the block, transpose it), the
    /// last `depth % 8` values one by one. Scalar, it was a load and a strided store per value: 3-4% of a ResNet
    /// training step in the backward products' packing. Not inlined: inside a large caller the
    /// compiler left the row loads as calls (1.9% of the photo run).
    @inline(never)
    static func transposeEightRows(
        _ src: UnsafePointer<Float>, ld: Int, depth: Int, _ dst: UnsafeMutablePointer<Float>, stride: Int
    ) {
        typealias Row = SIMD8<Float>
        @inline(__always) func interleaved(_ a: Row, _ b: Row) -> (Row, Row) {
            (Row(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]), Row(a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]))
        }
        @inline(__always) func row(_ i: Int, _ p: Int) -> Row { UnsafeRawPointer(src + i * ld + p).loadUnaligned(as: Row.self) }
        var p = 0
        while p + 8 <= depth {
            var m = (row(0, p), row(1, p), row(2, p), row(3, p), row(4, p), row(5, p), row(6, p), row(7, p))
            for _ in 0..<3 {
                let (r0, r1) = interleaved(m.0, m.4), (r2, r3) = interleaved(m.1, m.5)
                let (r4, r5) = interleaved(m.2, m.6), (r6, r7) = interleaved(m.3, m.7)
                m = (r0, r1, r2, r3, r4, r5, r6, r7)
            }
            @inline(__always) func store(_ k: Int, _ v: Row) {
                UnsafeMutableRawPointer(dst + (p + k) * stride).storeBytes(of: v, as: Row.self)
            }
            store(0, m.0); store(1, m.1); store(2, m.2); store(3, m.3)
            store(4, m.4); store(5, m.5); store(6, m.6); store(7, m.7)
            p += 8
        }
        while p < depth {
            for i in 0..<8 { dst[p * stride + i] = src[i * ld + p] }
            p += 1
        }
    }

    /// Packs `op(B)[depth0 ..< depth0+depth, column0 ..< column0+columns]` into panels of `nr`
    /// columns: panel `q` holds, for each depth index, its `nr` column values (zero-padded).
    @inline(__always)
    static func packB(
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, depth0: Int, depth kb: Int,
        column0: Int, columns: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        let panels = (columns + nr - 1) / nr
        for panel in 0..<panels {
            let dst = packed + panel * nr * kb
            let first = column0 + panel * nr
            let count = min(nr, columns - panel * nr)
            if transB {
                // op(B)[p, j] = b[j * ldb + p]: read each stored row contiguously.
                transposeRows(b + first * ldb + depth0, ld: ldb, rows: count, depth: kb, dst, stride: nr)
                if count < nr {
                    for p in 0..<kb { for j in count..<nr { dst[p * nr + j] = 0 } }
                }
            } else {
                // op(B)[p, j] = b[p * ldb + j]: each depth index gives `count` contiguous values.
                for p in 0..<kb {
                    let src = b + (depth0 + p) * ldb + first
                    let d = dst + p * nr
                    if count == nr {
                        copyFloats(src, d, nr)
                    } else {
                        for j in 0..<count { d[j] = src[j] }
                        for j in count..<nr { d[j] = 0 }
                    }
                }
            }
        }
    }

    #if FASTSWIFT_PORTABLE
    /// The micro-kernel of a portable build (16 SSE registers, no FMA): `C[0..<6, 0..<8] +=
    /// alpha * Apanel · Bpanel`, the 6 accumulators in 12 registers, the B row in 2 and the
    /// broadcast in 1. Strides as in the native kernel; compiled on its own, as the native one.
    @inline(never)
    static func microKernel(
        _ kc: Int, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aDepthStride: Int,
        _ b: UnsafePointer<Float>, _ bStride: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, overwrite: Bool
    ) {
        // A always comes packed here (`directAColumnLimit` is 0): constant strides, fewer
        // address computations in the loop.
        precondition(aRowStride == 1 && aDepthStride == mr, "portable micro-kernel: A must be packed")
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
        var ap = a, bp = b
        for _ in 0..<kc {
            let bv = UnsafeRawPointer(bp).loadUnaligned(as: SIMD8<Float>.self)
            c0 = c0.plusProduct(SIMD8(repeating: ap[0]), bv)
            c1 = c1.plusProduct(SIMD8(repeating: ap[1]), bv)
            c2 = c2.plusProduct(SIMD8(repeating: ap[2]), bv)
            c3 = c3.plusProduct(SIMD8(repeating: ap[3]), bv)
            c4 = c4.plusProduct(SIMD8(repeating: ap[4]), bv)
            c5 = c5.plusProduct(SIMD8(repeating: ap[5]), bv)
            ap += 6; bp += bStride
        }
        let scale = SIMD8<Float>(repeating: alpha)
        @inline(__always) func write(_ r: Int, _ v: SIMD8<Float>) {
            let row = UnsafeMutableRawPointer(c + r * ldc)
            let old = overwrite ? SIMD8<Float>() : row.loadUnaligned(as: SIMD8<Float>.self)
            row.storeBytes(of: old.plusProduct(v, scale), as: SIMD8<Float>.self)
        }
        write(0, c0); write(1, c1); write(2, c2); write(3, c3); write(4, c4); write(5, c5)
    }
    #else
    /// The register-blocked micro-kernel: `C[0..<mr, 0..<nr] += alpha * Apanel · Bpanel` over
    /// `kc` depth steps (`=` with `overwrite`), the tile held in registers (see `microKernelBody`).
    /// A's element (r, p) is at `r·aRowStride + p·aDepthStride`: (1, mr) in a packed panel,
    /// (lda, 1) when A is read in place. B's rows are `bStride` apart: nr in a packed panel,
    /// `ldb` when B is read in place.
    ///
    /// Compiled once, as a function of its own: inlined into a large caller, the optimizer's
    /// budget runs out and the tile's live registers spill (measured: a third of the speed).
    @inline(never)
    static func microKernel(
        _ kc: Int, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aDepthStride: Int,
        _ b: UnsafePointer<Float>, _ bStride: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, overwrite: Bool
    ) {
        if aRowStride == 1 && aDepthStride == mr {
            microKernelBody(kc, a, 1, mr, b, bStride, c, ldc, alpha, overwrite: overwrite)
        } else {
            microKernelBody(kc, a, aRowStride, aDepthStride, b, bStride, c, ldc, alpha, overwrite: overwrite)
        }
    }
    #endif

    #if !FASTSWIFT_PORTABLE && !FASTSWIFT_AVX512
    /// `microKernel`'s loop for 256-bit vectors (AVX2, 16 registers): the 6×16 tile in 12
    /// registers, the B row in 2 and the broadcast in 1, as BLIS's Haswell and Zen kernels.
    /// Inlined into `microKernel` once per kind of A panel (packed strides are constants).
    @inline(__always)
    private static func microKernelBody(
        _ kc: Int, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aDepthStride: Int,
        _ b: UnsafePointer<Float>, _ bStride: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, overwrite: Bool
    ) {
        let rs = aRowStride
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(),
            c10 = SIMD8<Float>(), c11 = SIMD8<Float>(),
            c20 = SIMD8<Float>(), c21 = SIMD8<Float>(),
            c30 = SIMD8<Float>(), c31 = SIMD8<Float>(),
            c40 = SIMD8<Float>(), c41 = SIMD8<Float>(),
            c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var a = a, b = b
        for _ in 0..<kc {
            let b0 = UnsafeRawPointer(b).loadUnaligned(as: SIMD8<Float>.self)
            let b1 = UnsafeRawPointer(b + 8).loadUnaligned(as: SIMD8<Float>.self)
            let a0 = SIMD8<Float>(repeating: a[0 * rs])
            c00 = c00.plusProduct(a0, b0); c01 = c01.plusProduct(a0, b1)
            let a1 = SIMD8<Float>(repeating: a[1 * rs])
            c10 = c10.plusProduct(a1, b0); c11 = c11.plusProduct(a1, b1)
            let a2 = SIMD8<Float>(repeating: a[2 * rs])
            c20 = c20.plusProduct(a2, b0); c21 = c21.plusProduct(a2, b1)
            let a3 = SIMD8<Float>(repeating: a[3 * rs])
            c30 = c30.plusProduct(a3, b0); c31 = c31.plusProduct(a3, b1)
            let a4 = SIMD8<Float>(repeating: a[4 * rs])
            c40 = c40.plusProduct(a4, b0); c41 = c41.plusProduct(a4, b1)
            let a5 = SIMD8<Float>(repeating: a[5 * rs])
            c50 = c50.plusProduct(a5, b0); c51 = c51.plusProduct(a5, b1)
            a += aDepthStride; b += bStride
        }
        let scale = SIMD8<Float>(repeating: alpha)
        accumulate(c + 0 * ldc, c00, c01, scale, overwrite)
        accumulate(c + 1 * ldc, c10, c11, scale, overwrite)
        accumulate(c + 2 * ldc, c20, c21, scale, overwrite)
        accumulate(c + 3 * ldc, c30, c31, scale, overwrite)
        accumulate(c + 4 * ldc, c40, c41, scale, overwrite)
        accumulate(c + 5 * ldc, c50, c51, scale, overwrite)
    }

    @inline(__always)
    private static func accumulate(
        _ c: UnsafeMutablePointer<Float>, _ low: SIMD8<Float>, _ high: SIMD8<Float>,
        _ scale: SIMD8<Float>, _ overwrite: Bool
    ) {
        let raw = UnsafeMutableRawPointer(c)
        if overwrite {
            raw.storeBytes(of: low * scale, as: SIMD8<Float>.self)
            raw.storeBytes(of: high * scale, toByteOffset: 32, as: SIMD8<Float>.self)
            return
        }
        let c0 = raw.loadUnaligned(as: SIMD8<Float>.self)
        let c1 = raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        raw.storeBytes(of: c0.plusProduct(low, scale), as: SIMD8<Float>.self)
        raw.storeBytes(of: c1.plusProduct(high, scale), toByteOffset: 32, as: SIMD8<Float>.self)
    }
    #endif

    #if FASTSWIFT_AVX512 && !FASTSWIFT_PORTABLE
    /// (AVX-512) `microKernel`'s loop: `C[0..<12, 0..<32] += alpha * Apanel · Bpanel` over
    /// `kc` depth steps, the 12×32 tile held in 24 AVX-512 registers. Inlined into
    /// `microKernel` once per kind of A panel (packed strides are constants).
    @inline(__always)
    private static func microKernelBody(
        _ kc: Int, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aDepthStride: Int,
        _ b: UnsafePointer<Float>, _ bStride: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, overwrite: Bool
    ) {
        let rs = aRowStride
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(),
            c10 = SIMD16<Float>(), c11 = SIMD16<Float>(),
            c20 = SIMD16<Float>(), c21 = SIMD16<Float>(),
            c30 = SIMD16<Float>(), c31 = SIMD16<Float>(),
            c40 = SIMD16<Float>(), c41 = SIMD16<Float>(),
            c50 = SIMD16<Float>(), c51 = SIMD16<Float>(),
            c60 = SIMD16<Float>(), c61 = SIMD16<Float>(),
            c70 = SIMD16<Float>(), c71 = SIMD16<Float>(),
            c80 = SIMD16<Float>(), c81 = SIMD16<Float>(),
            c90 = SIMD16<Float>(), c91 = SIMD16<Float>(),
            c100 = SIMD16<Float>(), c101 = SIMD16<Float>(),
            c110 = SIMD16<Float>(), c111 = SIMD16<Float>()
        var a = a, b = b
        for _ in 0..<kc {
            let b0 = UnsafeRawPointer(b).loadUnaligned(as: SIMD16<Float>.self)
            let b1 = UnsafeRawPointer(b + 16).loadUnaligned(as: SIMD16<Float>.self)
            let a0 = SIMD16<Float>(repeating: a[0 * rs])
            c00 = c00.plusProduct(a0, b0); c01 = c01.plusProduct(a0, b1)
            let a1 = SIMD16<Float>(repeating: a[1 * rs])
            c10 = c10.plusProduct(a1, b0); c11 = c11.plusProduct(a1, b1)
            let a2 = SIMD16<Float>(repeating: a[2 * rs])
            c20 = c20.plusProduct(a2, b0); c21 = c21.plusProduct(a2, b1)
            let a3 = SIMD16<Float>(repeating: a[3 * rs])
            c30 = c30.plusProduct(a3, b0); c31 = c31.plusProduct(a3, b1)
            let a4 = SIMD16<Float>(repeating: a[4 * rs])
            c40 = c40.plusProduct(a4, b0); c41 = c41.plusProduct(a4, b1)
            let a5 = SIMD16<Float>(repeating: a[5 * rs])
            c50 = c50.plusProduct(a5, b0); c51 = c51.plusProduct(a5, b1)
            let a6 = SIMD16<Float>(repeating: a[6 * rs])
            c60 = c60.plusProduct(a6, b0); c61 = c61.plusProduct(a6, b1)
            let a7 = SIMD16<Float>(repeating: a[7 * rs])
            c70 = c70.plusProduct(a7, b0); c71 = c71.plusProduct(a7, b1)
            let a8 = SIMD16<Float>(repeating: a[8 * rs])
            c80 = c80.plusProduct(a8, b0); c81 = c81.plusProduct(a8, b1)
            let a9 = SIMD16<Float>(repeating: a[9 * rs])
            c90 = c90.plusProduct(a9, b0); c91 = c91.plusProduct(a9, b1)
            let a10 = SIMD16<Float>(repeating: a[10 * rs])
            c100 = c100.plusProduct(a10, b0); c101 = c101.plusProduct(a10, b1)
            let a11 = SIMD16<Float>(repeating: a[11 * rs])
            c110 = c110.plusProduct(a11, b0); c111 = c111.plusProduct(a11, b1)
            a += aDepthStride; b += bStride
        }
        let scale = SIMD16<Float>(repeating: alpha)
        accumulate(c + 0 * ldc, c00, c01, scale, overwrite)
        accumulate(c + 1 * ldc, c10, c11, scale, overwrite)
        accumulate(c + 2 * ldc, c20, c21, scale, overwrite)
        accumulate(c + 3 * ldc, c30, c31, scale, overwrite)
        accumulate(c + 4 * ldc, c40, c41, scale, overwrite)
        accumulate(c + 5 * ldc, c50, c51, scale, overwrite)
        accumulate(c + 6 * ldc, c60, c61, scale, overwrite)
        accumulate(c + 7 * ldc, c70, c71, scale, overwrite)
        accumulate(c + 8 * ldc, c80, c81, scale, overwrite)
        accumulate(c + 9 * ldc, c90, c91, scale, overwrite)
        accumulate(c + 10 * ldc, c100, c101, scale, overwrite)
        accumulate(c + 11 * ldc, c110, c111, scale, overwrite)
    }

    @inline(__always)
    private static func accumulate(
        _ c: UnsafeMutablePointer<Float>, _ low: SIMD16<Float>, _ high: SIMD16<Float>,
        _ scale: SIMD16<Float>, _ overwrite: Bool
    ) {
        let raw = UnsafeMutableRawPointer(c)
        if overwrite {
            raw.storeBytes(of: low * scale, as: SIMD16<Float>.self)
            raw.storeBytes(of: high * scale, toByteOffset: 64, as: SIMD16<Float>.self)
            return
        }
        let c0 = raw.loadUnaligned(as: SIMD16<Float>.self)
        let c1 = raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        raw.storeBytes(of: c0.plusProduct(low, scale), as: SIMD16<Float>.self)
        raw.storeBytes(of: c1.plusProduct(high, scale), toByteOffset: 64, as: SIMD16<Float>.self)
    }
    #endif
}

/// A 64-byte aligned scratch buffer of Floats (packed GEMM panels, im2col columns).
struct AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = max(1, count)
        let raw = BufferCache.allocate(bytes: self.count * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: self.count)
    }

    func free() { BufferCache.release(UnsafeMutableRawPointer(pointer), bytes: count * MemoryLayout<Float>.stride) }
}

// `plusProduct` lives here, in the micro-kernels' file, so that a build optimised file by file
// (`swift test`) inlines it into them too (see PortableBuild.swift). One extension per concrete
// vector type, not one on `SIMD where Scalar == Float`: the generic one is not specialised in
// `-enable-testing` builds and then goes lane by lane.
extension SIMD16 where Scalar == Float {
    /// `self + a·b`: a fused multiply-add in a native build, a multiply then an add in a
    /// portable one.
    @inline(__always)
    func plusProduct(_ a: Self, _ b: Self) -> Self {
        #if FASTSWIFT_PORTABLE
        self + a * b
        #else
        addingProduct(a, b)
        #endif
    }
}

extension SIMD8 where Scalar == Float {
    /// `self + a·b`, as `SIMD16.plusProduct`.
    @inline(__always)
    func plusProduct(_ a: Self, _ b: Self) -> Self {
        #if FASTSWIFT_PORTABLE
        self + a * b
        #else
        addingProduct(a, b)
        #endif
    }
}

// Max and average pooling over NCHW planes, with fixed windows (kernel, stride, padding) or
// adaptive ones (any output size), forward and backward.

extension PoolGeometry {
    /// The input rows (or columns) output `o` covers, clipped to the input, and the divisor an
    /// average uses (PyTorch's count_include_pad for fixed windows).
    @inline(__always)
    func span(_ o: Int, axis: Int) -> (lo: Int, hi: Int, size: Int) {
        let (n, out) = axis == 0 ? (height, outH) : (width, outW)
        switch windows {
        case .adaptive:
            let lo = o * n / out, hi = ((o + 1) * n + out - 1) / out
            return (lo, hi, hi - lo)
        case .fixed(let kernel, let stride, let padding):
            let start = o * stride[axis] - padding[axis]
            let end = min(start + kernel[axis], n + padding[axis])
            return (max(start, 0), min(end, n), end - start)
        }
    }
}

extension Kernels {
    /// Calls `body(planes, rowSpans, columnSpans)` on ranges of the `planes` pooled planes, split
    /// over threads when there are enough of them, with every output row's and column's window
    /// span worked out once (`PoolGeometry.span`).
    @inline(__always)
    private static func forEachPlanes(
        _ planes: Int, _ g: PoolGeometry,
        _ body: (Range<Int>, UnsafePointer<Span>, UnsafePointer<Span>) -> Void
    ) {
        let rowSpans = (0..<g.outH).map { g.span($0, axis: 0) }, columnSpans = (0..<g.outW).map { g.span($0, axis: 1) }
        let parts = channelParts(planes * g.height * g.width, units: planes)
        rowSpans.withUnsafeBufferPointer { rows in
            columnSpans.withUnsafeBufferPointer { columns in
                withoutActuallyEscaping(body) { body in
                    let shared = UncheckedSendable((body, rows.baseAddress!, columns.baseAddress!))
                    parallelFor(chunks: parts) { part in
                        let (body, rows, columns) = shared.value
                        body(splitRange(planes, parts: parts, part: part), rows, columns)
                    }
                }
            }
        }
    }

    /// A window's extent along one axis: input indices `lo..<hi`, and the divisor an average uses.
    typealias Span = (lo: Int, hi: Int, size: Int)

    /// Calls `body(plane, output index, rows, columns)` for every output pixel of the planes in
    /// `range`, in order. Inlined into each kernel's chunk, so no closure runs per pixel.
    @inline(__always)
    private static func forEachWindow(
        _ range: Range<Int>, _ g: PoolGeometry, _ rowSpans: UnsafePointer<Span>,
        _ columnSpans: UnsafePointer<Span>, _ body: (Int, Int, Span, Span) -> Void
    ) {
        for p in range {
            var o = p * g.outH * g.outW
            for oh in 0..<g.outH {
                let rows = rowSpans[oh]
                for ow in 0..<g.outW {
                    body(p, o, rows, columnSpans[ow])
                    o += 1
                }
            }
        }
    }

    /// Max pooling of `planes` planes; `argmax`, when given, receives per output the flat index
    /// of the winning input pixel within its plane (NaN wins, as in PyTorch).
    static func maxPool(
        _ x: UnsafePointer<Float>, planes: Int, _ g: PoolGeometry,
        _ out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>?
    ) {
        if argmax == nil { return maxPoolSeparable(x, planes: planes, g, out) }
        forEachPlanes(planes, g) { range, rowSpans, columnSpans in
            forEachWindow(range, g, rowSpans, columnSpans) { p, o, rows, cols in
                let plane = x + p * g.height * g.width
                var best = -Float.infinity, bestIndex = rows.lo * g.width + cols.lo
                search: for h in rows.lo..<rows.hi {
                    for w in cols.lo..<cols.hi {
                        let v = plane[h * g.width + w]
                        if v > best || v.isNaN {
                            best = v; bestIndex = h * g.width + w
                            if v.isNaN { break search }
                        }
                    }
                }
                out[o] = best
                argmax?[o] = Int32(truncatingIfNeeded: bestIndex)
            }
        }
    }

    /// Max pooling without winners' positions, in two passes per output row: the maximum of the
    /// window's input rows, element by element in vectors, then of each window's columns in that
    /// row. A NaN anywhere in a window gives NaN, as in PyTorch.
    private static func maxPoolSeparable(
        _ x: UnsafePointer<Float>, planes: Int, _ g: PoolGeometry,
        _ out: UnsafeMutablePointer<Float>
    ) {
        // Two selects, no branch (a data-dependent branch here mispredicts half the time).
        @inline(__always) func larger(_ a: Float, _ b: Float) -> Float {
            let m = a > b ? a : b
            return a.isNaN ? a : m
        }
        forEachPlanes(planes, g) { range, rowSpans, columnSpans in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: g.width) { buffer in
                let rowMax = buffer.baseAddress!
                for p in range {
                    let plane = x + p * g.height * g.width
                    var o = p * g.outH * g.outW
                    for oh in 0..<g.outH {
                        let rows = rowSpans[oh]
                        var w = 0
                        while w + 16 <= g.width {
                            var m = Vec(repeating: -.infinity)
                            for h in rows.lo..<rows.hi {
                                let v = load(plane + h * g.width, w)
                                m = v.replacing(with: m, where: .!((v .> m) .| (v .!= v)))
                            }
                            store(m, rowMax, w)
                            w += 16
                        }
                        // Narrow maps (ResNet's stem on 28×28 gives 14-wide rows): 8 and 4 lanes.
                        w = rowMaxima8(plane, width: g.width, rows: rows, from: w, into: rowMax)
                        w = rowMaxima4(plane, width: g.width, rows: rows, from: w, into: rowMax)
                        while w < g.width {
                            var m = -Float.infinity
                            for h in rows.lo..<rows.hi { m = larger(plane[h &* g.width &+ w], m) }
                            rowMax[w] = m
                            w += 1
                        }
                        for ow in 0..<g.outW {
                            let cols = columnSpans[ow]
                            var m = -Float.infinity
                            for c in cols.lo..<cols.hi { m = larger(rowMax[c], m) }
                            out[o] = m
                            o += 1
                        }
                    }
                }
            }
        }
    }

    /// The maxima over the window's input `rows` of the columns from `w` on, 8 at a time while
    /// whole vectors fit, into `rowMax` (NaN wins); returns the first column not done. Written
    /// for `SIMD8` and `SIMD4` apart: generic SIMD mask operations compile lane by lane.
    @inline(__always)
    private static func rowMaxima8(
        _ plane: UnsafePointer<Float>, width: Int, rows: Span, from w: Int, into rowMax: UnsafeMutablePointer<Float>
    ) -> Int {
        var w = w
        while w + 8 <= width {
            var m = SIMD8<Float>(repeating: -.infinity)
            for h in rows.lo..<rows.hi {
                let v = UnsafeRawPointer(plane + h * width + w).loadUnaligned(as: SIMD8<Float>.self)
                m = v.replacing(with: m, where: .!((v .> m) .| (v .!= v)))
            }
            UnsafeMutableRawPointer(rowMax + w).storeBytes(of: m, as: SIMD8<Float>.self)
            w += 8
        }
        return w
    }

    /// `rowMaxima8` with 4 lanes.
    @inline(__always)
    private static func rowMaxima4(
        _ plane: UnsafePointer<Float>, width: Int, rows: Span, from w: Int, into rowMax: UnsafeMutablePointer<Float>
    ) -> Int {
        var w = w
        while w + 4 <= width {
            var m = SIMD4<Float>(repeating: -.infinity)
            for h in rows.lo..<rows.hi {
                let v = UnsafeRawPointer(plane + h * width + w).loadUnaligned(as: SIMD4<Float>.self)
                m = v.replacing(with: m, where: .!((v .> m) .| (v .!= v)))
            }
            UnsafeMutableRawPointer(rowMax + w).storeBytes(of: m, as: SIMD4<Float>.self)
            w += 4
        }
        return w
    }

    /// Average pooling of `planes` planes.
    static func avgPool(_ x: UnsafePointer<Float>, planes: Int, _ g: PoolGeometry, _ out: UnsafeMutablePointer<Float>) {
        forEachPlanes(planes, g) { range, rowSpans, columnSpans in
            forEachWindow(range, g, rowSpans, columnSpans) { p, o, rows, cols in
                let plane = x + p * g.height * g.width
                var sum: Float = 0
                for h in rows.lo..<rows.hi { for w in cols.lo..<cols.hi { sum += plane[h * g.width + w] } }
                out[o] = sum / Float(rows.size * cols.size)
            }
        }
    }

    /// The adjoint of `avgPool`: each output's gradient spread evenly over its window. Threads
    /// split the planes, so no two write the same element.
    static func avgPoolBackward(_ grad: UnsafePointer<Float>, planes: Int, _ g: PoolGeometry, _ dx: UnsafeMutablePointer<Float>) {
        forEachPlanes(planes, g) { range, rowSpans, columnSpans in
            forEachWindow(range, g, rowSpans, columnSpans) { p, o, rows, cols in
                let plane = dx + p * g.height * g.width
                let share = grad[o] / Float(rows.size * cols.size)
                for h in rows.lo..<rows.hi { for w in cols.lo..<cols.hi { plane[h * g.width + w] += share } }
            }
        }
    }
}

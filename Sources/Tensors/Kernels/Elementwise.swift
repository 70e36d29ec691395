// Element-wise loops. Each op is a small struct whose `apply` works on 16 lanes; the loops are
// generic over it and specialised by the compiler, so there is no closure call per element.
// Tails shorter than 16 go through the same vector code (padded), so every element of a
// tensor is computed the same way wherever it sits.

/// An element-wise function of one tensor.
protocol UnaryOp {
    func apply(_ x: Vec) -> Vec
}

/// An element-wise function of two tensors.
protocol BinaryOp {
    func apply(_ a: Vec, _ b: Vec) -> Vec
}

/// Elements per thread below which an element-wise loop stays on one thread.
let elementwiseParallelThreshold = 1 << 17

extension Kernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Vec {
        UnsafeRawPointer(p + i).loadUnaligned(as: Vec.self)
    }

    @inline(__always)
    static func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vec.self)
    }

    /// Loads `count < 16` elements into the low lanes of a vector, zero elsewhere.
    @inline(__always)
    static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Vec {
        var v = Vec()
        for j in 0..<count { v[j] = p[j] }
        return v
    }

    @inline(__always)
    static func storePartial(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for j in 0..<count { p[j] = v[j] }
    }

    /// Splits `count` elements over threads when the loop is large enough to gain from it.
    @inline(__always)
    static func parallelElements(_ count: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(Threads.count, max(1, count / elementwiseParallelThreshold))
        parallelFor(chunks: parts) { part in
            body(splitRange(count, parts: parts, part: part, granule: 64))
        }
    }

    /// `out[i] = op(x[i])`.
    @inline(__always)
    static func map<Op: UnaryOp>(_ op: Op, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        let s = UncheckedSendable((x, out))
        parallelElements(count) { range in
            let (x, out) = s.value
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                store(op.apply(load(x, i)), out, i)
                i += 16
            }
            if i < range.upperBound {
                let n = range.upperBound - i
                storePartial(op.apply(loadPartial(x + i, n)), out + i, n)
            }
        }
    }

    /// `out[i] = op(a[i], b[i])` over contiguous operands of the same length.
    @inline(__always)
    static func zip<Op: BinaryOp>(
        _ op: Op, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, count: Int
    ) {
        let s = UncheckedSendable((a, b, out))
        parallelElements(count) { range in
            let (a, b, out) = s.value
            zipRow(op, a + range.lowerBound, 1, b + range.lowerBound, 1, out + range.lowerBound, range.count)
        }
    }

    /// One row of a binary op: `out[i] = op(a[i * sa], b[i * sb])` where each stride is 0 or 1.
    @inline(__always)
    static func zipRow<Op: BinaryOp>(
        _ op: Op, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
        _ out: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        var i = 0
        switch (sa, sb) {
        case (1, 1):
            while i + 16 <= count { store(op.apply(load(a, i), load(b, i)), out, i); i += 16 }
            if i < count { storePartial(op.apply(loadPartial(a + i, count - i), loadPartial(b + i, count - i)), out + i, count - i) }
        case (1, 0):
            let vb = Vec(repeating: b[0])
            while i + 16 <= count { store(op.apply(load(a, i), vb), out, i); i += 16 }
            if i < count { storePartial(op.apply(loadPartial(a + i, count - i), vb), out + i, count - i) }
        case (0, 1):
            let va = Vec(repeating: a[0])
            while i + 16 <= count { store(op.apply(va, load(b, i)), out, i); i += 16 }
            if i < count { storePartial(op.apply(va, loadPartial(b + i, count - i)), out + i, count - i) }
        default:
            let v = op.apply(Vec(repeating: a[0]), Vec(repeating: b[0]))
            out.update(repeating: v[0], count: count)
        }
    }

    /// `out = op(a, b)` for operands broadcast to the plan's output shape.
    static func zipBroadcast<Op: BinaryOp>(
        _ op: Op, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, plan: BroadcastPlan
    ) {
        let s = UncheckedSendable((a, b, out))
        let rows = plan.rows
        let parts = min(Threads.count, max(1, plan.count / elementwiseParallelThreshold), rows)
        parallelFor(chunks: parts) { part in
            let (a, b, out) = s.value
            let inner = plan.innerCount
            let (sa, sb) = (plan.innerStride.0, plan.innerStride.1)
            plan.forEachRow(in: splitRange(rows, parts: parts, part: part)) { row, offA, offB in
                zipRow(op, a + offA, sa, b + offB, sb, out + row * inner, inner)
            }
        }
    }
}

/// How two operands broadcast to an output shape, with adjacent axes merged where they are
/// contiguous in both, so that the inner loop is as long as possible.
struct BroadcastPlan: Sendable {
    /// The merged output sizes, outermost first; the last is the inner loop.
    let sizes: [Int]
    /// Each operand's element stride along each merged axis (0 where it is broadcast).
    let stridesA: [Int], stridesB: [Int]
    /// The output's element count.
    let count: Int

    var innerCount: Int { sizes.last ?? 1 }
    var innerStride: (Int, Int) { (stridesA.last ?? 0, stridesB.last ?? 0) }
    var rows: Int { count == 0 ? 0 : count / innerCount }

    /// A plan for `a` and `b` broadcast to `output` (which must be their broadcast shape).
    init(output: [Int], a: [Int], b: [Int]) {
        func strides(of shape: [Int]) -> [Int] {
            // Align to the right; broadcast axes (size 1 or missing) get stride 0.
            var result = [Int](repeating: 0, count: output.count)
            var step = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                let od = d + output.count - shape.count
                result[od] = shape[d] == 1 ? 0 : step
                step *= shape[d]
            }
            return result
        }
        let sa = strides(of: a), sb = strides(of: b)
        var sizes: [Int] = [], mergedA: [Int] = [], mergedB: [Int] = []
        for d in 0..<output.count where output[d] != 1 {
            if let last = sizes.last,
                mergedA.last! == sa[d] * output[d], mergedB.last! == sb[d] * output[d]
            {
                sizes[sizes.count - 1] = last * output[d]
                mergedA[mergedA.count - 1] = sa[d]
                mergedB[mergedB.count - 1] = sb[d]
            } else {
                sizes.append(output[d]); mergedA.append(sa[d]); mergedB.append(sb[d])
            }
        }
        if sizes.isEmpty { sizes = [1]; mergedA = [0]; mergedB = [0] }
        self.sizes = sizes
        self.stridesA = mergedA
        self.stridesB = mergedB
        self.count = Tensor.elementCount(output)
    }

    /// Calls `body(row, offsetA, offsetB)` for each row (all axes but the last) in `rows`.
    @inline(__always)
    func forEachRow(in rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        if rows.isEmpty { return }
        let outer = sizes.count - 1
        // Odometer over the outer axes, started at rows.lowerBound.
        var index = [Int](repeating: 0, count: max(outer, 1))
        var offA = 0, offB = 0
        var rest = rows.lowerBound
        for d in stride(from: outer - 1, through: 0, by: -1) {
            index[d] = rest % sizes[d]
            rest /= sizes[d]
            offA += index[d] * stridesA[d]
            offB += index[d] * stridesB[d]
        }
        for row in rows {
            body(row, offA, offB)
            var d = outer - 1
            while d >= 0 {
                index[d] += 1
                offA += stridesA[d]; offB += stridesB[d]
                if index[d] < sizes[d] { break }
                offA -= stridesA[d] * sizes[d]; offB -= stridesB[d] * sizes[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// `broadcastShape(a, b)`: the shape both broadcast to under NumPy/PyTorch rules (align from the
/// right; each pair of sizes must be equal or one of them 1), or nil when they cannot.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
    }
    return result
}

/// The message of a trap for operands whose shapes do not fit an op: it names the op and both
/// shapes, e.g. `add: shapes [2, 3] and [4] cannot be broadcast together`.
public func shapeMismatchMessage(op: String, _ a: [Int], _ b: [Int], reason: String = "cannot be broadcast together") -> String {
    "\(op): shapes \(a) and \(b) \(reason)"
}

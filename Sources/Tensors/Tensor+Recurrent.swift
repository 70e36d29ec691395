// One LSTM layer over a whole sequence, forward and backward, as a few large matrix products and
// one fused element-wise pass per time step (PyTorch's `nn.LSTM` gate order: input, forget, cell,
// output).
//
// Inside, every sequence quantity is feature-major, `[features, T·B]` with column `t·B + b`, so a
// step's state is a contiguous block of columns and its gates are a product with the weight as
// the left operand: the hidden-to-hidden weight is packed for the micro-kernel once per sequence
// (not once per step, which cost as much as the product itself at AWD-LSTM's sizes), and the
// input-to-hidden products of all steps are one GEMM before the loop. The backward pass runs the
// steps in reverse for the gate gradients only, with the transposed weight packed once, then makes
// the input and weight gradients as GEMMs over the whole sequence.

/// What `Tensor.lstmForward` keeps for `Tensor.lstmBackward` (feature-major, see above).
public struct LSTMTrace: Sendable {
    /// The batch, the steps, the input features and the hidden size.
    public let batch: Int, steps: Int, inputSize: Int, hidden: Int
    /// The layer's output, `[B, T, H]`.
    public let output: Tensor
    /// `[I, T·B]`: the input.
    let inputT: Tensor
    /// `[4H, T·B]`: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) of every step.
    let gates: Tensor
    /// `[H, T·B]`: the cell and hidden states after every step.
    let cells: Tensor, hiddens: Tensor
    /// `[H, B]`: the state before the first step.
    let h0T: Tensor, c0T: Tensor

    /// The hidden and cell states after the last step: `[B, H]` each.
    public var finalState: (h: Tensor, c: Tensor) {
        let n = steps * batch
        guard steps > 0 else {
            return (Kernels.transposed(h0T, rows: hidden, columns: batch), Kernels.transposed(c0T, rows: hidden, columns: batch))
        }
        let hT = Tensor(uninitializedShape: [batch, hidden]), cT = Tensor(uninitializedShape: [batch, hidden])
        let last = (steps - 1) * batch
        for j in 0..<hidden {
            for b in 0..<batch {
                hT.pointer[b * hidden + j] = hiddens.pointer[j * n + last + b]
                cT.pointer[b * hidden + j] = cells.pointer[j * n + last + b]
            }
        }
        return (hT, cT)
    }
}

/// The gradients of one LSTM layer's inputs and parameters (`Tensor.lstmBackward`).
public struct LSTMGradients: Sendable {
    /// `[B, T, I]`.
    public let input: Tensor
    /// `[4H, I]` and `[4H, H]`.
    public let weightIH: Tensor, weightHH: Tensor
    /// `[4H]`: the gradient of both biases (they are added together).
    public let bias: Tensor
}

extension Tensor {
    /// One LSTM layer over a batch-first sequence, outside autograd (the Layers' `LSTM` records it).
    ///
    /// - Parameters:
    ///   - input: `[B, T, I]`.
    ///   - h0: `[B, H]`, the hidden state before the first step.
    ///   - c0: `[B, H]`, the cell state before the first step.
    ///   - weightIH: `[4H, I]`, PyTorch's `weight_ih_l0` (gates i, f, g, o).
    ///   - weightHH: `[4H, H]`, PyTorch's `weight_hh_l0`.
    ///   - bias: `[4H]`, `bias_ih_l0 + bias_hh_l0`.
    public static func lstmForward(
        input: Tensor, h0: Tensor, c0: Tensor, weightIH: Tensor, weightHH: Tensor, bias: Tensor
    ) -> LSTMTrace {
        precondition(input.rank == 3, "lstmForward: input must be [batch, steps, features], got \(input.shape)")
        let (b, t, i) = (input.shape[0], input.shape[1], input.shape[2])
        let h = weightHH.shape.count == 2 ? weightHH.shape[1] : 0
        precondition(
            weightHH.shape == [4 * h, h] && weightIH.shape == [4 * h, i] && bias.shape == [4 * h],
            "lstmForward: weights \(weightIH.shape), \(weightHH.shape) and bias \(bias.shape) do not fit input \(input.shape)")
        precondition(h0.shape == [b, h] && c0.shape == [b, h], "lstmForward: state \(h0.shape), \(c0.shape) is not [\(b), \(h)]")
        let n = t * b
        let inputT = Kernels.sequenceToFeatureMajor(input)
        let gates = Tensor(uninitializedShape: [4 * h, n], hugePages: true)
        let cells = Tensor(uninitializedShape: [h, n], hugePages: true), hiddens = Tensor(uninitializedShape: [h, n], hugePages: true)
        let h0T = Kernels.transposed(h0, rows: b, columns: h), c0T = Kernels.transposed(c0, rows: b, columns: h)
        if n > 0 {
            // Every step's input-to-hidden product at once: [4H, T·B].
            Kernels.sgemm(
                transA: false, transB: false, m: 4 * h, n: n, k: i, a: weightIH.pointer, lda: i, b: inputT.pointer, ldb: n,
                c: gates.pointer, ldc: n)
            let packedHH = Kernels.PackedPanels(weightHH.pointer, lda: h, rows: 4 * h, depth: h)
            let recurrent = Tensor(uninitializedShape: [4 * h, b])
            let parts = Kernels.lstmBatchParts(batch: b, hidden: h)
            let shared = UncheckedSendable(
                (gates.pointer, cells.pointer, hiddens.pointer, h0T.pointer, c0T.pointer, recurrent.pointer, bias.pointer))
            // Each step of a batch's columns depends only on the step before in the same columns:
            // with a batch large enough, each thread runs every step of its own columns, with no
            // barrier between steps; otherwise the threads share each step's product and cells.
            parallelFor(chunks: parts) { part in
                let (gates, cells, hiddens, h0T, c0T, recurrent, bias) = shared.value
                let columns = splitRange(b, parts: parts, part: part, granule: 16)
                let first = columns.lowerBound
                for step in 0..<t {
                    let column = step * b + first
                    let hPrev = step == 0 ? h0T + first : hiddens + column - b
                    let cPrev = step == 0 ? c0T + first : cells + column - b
                    let prevStride = step == 0 ? b : n
                    Kernels.sgemm(
                        packed: packedHH, n: columns.count, b: hPrev, ldb: prevStride, c: recurrent + first, ldc: b,
                        threads: parts > 1 ? 1 : nil)
                    Kernels.forEachUnitRange(hidden: h, columns: columns.count, split: parts == 1) { units in
                        Kernels.lstmCells(
                            gates: gates + column, recurrent: recurrent + first, recurrentStride: b, bias: bias, cPrev: cPrev,
                            prevStride: prevStride, cells: cells + column, hiddens: hiddens + column, stride: n, count: columns.count,
                            hidden: h, units: units)
                    }
                }
            }
        }
        let output = Kernels.featureMajorToSequence(hiddens, batch: b, steps: t)
        return LSTMTrace(
            batch: b, steps: t, inputSize: i, hidden: h, output: output, inputT: inputT, gates: gates, cells: cells, hiddens: hiddens,
            h0T: h0T, c0T: c0T)
    }

    /// The gradients of an LSTM layer's input, weights and bias given the gradient of its
    /// outputs `[B, T, H]` (no gradient flows into the initial state, which a language model
    /// carries over detached). `weightIH` and `weightHH` are those the forward pass used.
    public static func lstmBackward(
        _ trace: LSTMTrace, outputGradient dy: Tensor, weightIH: Tensor, weightHH: Tensor
    ) -> LSTMGradients {
        let (b, t, i, h) = (trace.batch, trace.steps, trace.inputSize, trace.hidden)
        precondition(dy.shape == [b, t, h], "lstmBackward: output gradient \(dy.shape) is not [\(b), \(t), \(h)]")
        let n = t * b
        let dGates = Tensor(uninitializedShape: [4 * h, n], hugePages: true)
        let dInputT = Tensor(uninitializedShape: [i, n], hugePages: true)
        let dWIH = Tensor(uninitializedShape: [4 * h, i]), dWHH = Tensor(uninitializedShape: [4 * h, h])
        let dBias = Tensor.zeros([4 * h])
        if n > 0 {
            let dyT = Kernels.sequenceToFeatureMajor(dy)
            let packedHHT = Kernels.PackedPanels(weightHH.pointer, lda: h, rows: h, depth: 4 * h, transposed: true)
            // The gradient reaching the hidden state through the next step, and the cell's: [H, B].
            let dh = Tensor.zeros([h, b]), dc = Tensor.zeros([h, b])
            let parts = Kernels.lstmBatchParts(batch: b, hidden: h)
            let shared = UncheckedSendable(
                (dGates.pointer, dh.pointer, dc.pointer, trace.gates.pointer, trace.cells.pointer, trace.c0T.pointer, dyT.pointer))
            // As in the forward pass: each thread runs its own batch columns through every step.
            parallelFor(chunks: parts) { part in
                let (dGates, dh, dc, gates, cells, c0T, dyT) = shared.value
                let columns = splitRange(b, parts: parts, part: part, granule: 16)
                let first = columns.lowerBound
                for step in stride(from: t - 1, through: 0, by: -1) {
                    let column = step * b + first
                    if step < t - 1 {
                        Kernels.sgemm(
                            packed: packedHHT, n: columns.count, b: dGates + column + b, ldb: n, c: dh + first, ldc: b,
                            threads: parts > 1 ? 1 : nil)
                    }
                    let cPrev = step == 0 ? c0T + first : cells + column - b
                    Kernels.forEachUnitRange(hidden: h, columns: columns.count, split: parts == 1) { units in
                        Kernels.lstmCellsBackward(
                            gates: gates + column, dGates: dGates + column, cells: cells + column, cPrev: cPrev,
                            prevStride: step == 0 ? b : n, dy: dyT + column, stride: n, dh: dh + first, dc: dc + first, stateStride: b,
                            count: columns.count, hidden: h, units: units)
                    }
                }
            }
            Kernels.sgemm(
                transA: true, transB: false, m: i, n: n, k: 4 * h, a: weightIH.pointer, lda: i, b: dGates.pointer, ldb: n,
                c: dInputT.pointer, ldc: n)
            Kernels.sgemm(
                transA: false, transB: true, m: 4 * h, n: i, k: n, a: dGates.pointer, lda: n, b: trace.inputT.pointer, ldb: n,
                c: dWIH.pointer, ldc: i)
            // Step t's gates met the hidden state of step t-1, and the first step's met h0.
            Kernels.sgemm(
                transA: false, transB: true, m: 4 * h, n: h, k: n - b, a: dGates.pointer + b, lda: n, b: trace.hiddens.pointer, ldb: n,
                c: dWHH.pointer, ldc: h)
            Kernels.sgemm(
                transA: false, transB: true, m: 4 * h, n: h, k: b, a: dGates.pointer, lda: n, b: trace.h0T.pointer, ldb: b,
                beta: 1, c: dWHH.pointer, ldc: h)
            for j in 0..<4 * h { dBias.pointer[j] = Kernels.rowSum(dGates.pointer + j * n, n) }
        } else {
            dInputT.pointer.update(repeating: 0, count: dInputT.count)
            dWIH.pointer.update(repeating: 0, count: dWIH.count)
            dWHH.pointer.update(repeating: 0, count: dWHH.count)
        }
        let dInput = Kernels.featureMajorToSequence(dInputT, batch: b, steps: t)
        return LSTMGradients(input: dInput, weightIH: dWIH, weightHH: dWHH, bias: dBias)
    }
}

extension SIMD16 where Scalar == Float {
    /// The logistic function 1 / (1 + e^-x) (`sigmoid`, named for its use beside `fastTanh`).
    @inline(__always)
    func fastSigmoid() -> Vec { 1 / (1 + (-self).exp()) }

    /// tanh(x) as 2·sigmoid(2x) - 1: one exponential (absolute error under 1e-7, which is all an
    /// LSTM's cell needs; `tanh` keeps small arguments' relative accuracy at twice the cost).
    @inline(__always)
    func fastTanh() -> Vec { 2 * (self + self).fastSigmoid() - 1 }
}

extension Kernels {
    /// `[B, T, F]` as `[F, T·B]` (column `t·B + b`).
    static func sequenceToFeatureMajor(_ x: Tensor) -> Tensor {
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2])
        let out = Tensor(uninitializedShape: [f, t * b], hugePages: true)
        transposeSequence(x.pointer, out.pointer, batch: b, steps: t, features: f, toFeatureMajor: true)
        return out
    }

    /// `[F, T·B]` (column `t·B + b`) as `[B, T, F]`.
    static func featureMajorToSequence(_ x: Tensor, batch b: Int, steps t: Int) -> Tensor {
        let f = x.shape[0]
        let out = Tensor(uninitializedShape: [b, t, f], hugePages: true)
        transposeSequence(x.pointer, out.pointer, batch: b, steps: t, features: f, toFeatureMajor: false)
        return out
    }

    /// Copies between `[B·T, F]` (row `b·T + t`) and `[F, T·B]` (column `t·B + b`) in tiles of
    /// 16 batch rows of one step by 16 features: on both sides a tile is 16 runs of 16
    /// contiguous floats. The features are split over the threads.
    private static func transposeSequence(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, batch b: Int, steps t: Int, features f: Int, toFeatureMajor: Bool
    ) {
        let n = t * b
        let s = UncheckedSendable((src, dst))
        let parts = min(Threads.count, max(1, n * f / elementwiseParallelThreshold), (f + 15) / 16)
        parallelFor(chunks: parts) { part in
            let (src, dst) = s.value
            let features = splitRange(f, parts: parts, part: part, granule: 16)
            var f0 = features.lowerBound
            while f0 < features.upperBound {
                let f1 = min(f0 + 16, features.upperBound)
                for step in 0..<t {
                    var b0 = 0
                    while b0 < b {
                        let b1 = min(b0 + 16, b)
                        for fi in f0..<f1 {
                            let column = dst + fi * n + step * b, sourceColumn = src + fi * n + step * b
                            for bi in b0..<b1 {
                                // Sequence row `bi·T + step` is feature-major column `step·B + bi`.
                                let row = (bi * t + step) * f + fi
                                if toFeatureMajor { column[bi] = src[row] } else { dst[row] = sourceColumn[bi] }
                            }
                        }
                        b0 = b1
                    }
                }
                f0 = f1
            }
        }
    }

    /// A `rows × columns` matrix transposed.
    static func transposed(_ x: Tensor, rows: Int, columns: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [columns, rows])
        for r in 0..<rows { for c in 0..<columns { out.pointer[c * rows + r] = x.pointer[r * columns + c] } }
        return out
    }

    /// The sum of `count` contiguous floats.
    static func rowSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = Vec()
        var j = 0
        while j + 16 <= count {
            acc += load(p, j)
            j += 16
        }
        var total = acc.sum()
        while j < count {
            total += p[j]
            j += 1
        }
        return total
    }

    /// One step's cell update for hidden units `units` over `count` batch columns. For unit `j`
    /// (rows `j`, `H+j`, `2H+j`, `3H+j` of `gates`, row stride `stride`): the input part of the
    /// pre-activations in `gates` plus `recurrent` (row stride `recurrentStride`) plus `bias`
    /// become the activated gates in place, and the new cell and hidden states are written. Runs
    /// on the calling thread.
    static func lstmCells(
        gates: UnsafeMutablePointer<Float>, recurrent: UnsafePointer<Float>, recurrentStride: Int, bias: UnsafePointer<Float>,
        cPrev: UnsafePointer<Float>, prevStride: Int, cells: UnsafeMutablePointer<Float>, hiddens: UnsafeMutablePointer<Float>, stride: Int,
        count: Int, hidden: Int, units: Range<Int>
    ) {
        for j in units {
            let gi = gates + j * stride, gf = gates + (hidden + j) * stride
            let gg = gates + (2 * hidden + j) * stride, go = gates + (3 * hidden + j) * stride
            let ri = recurrent + j * recurrentStride, rf = recurrent + (hidden + j) * recurrentStride
            let rg = recurrent + (2 * hidden + j) * recurrentStride, ro = recurrent + (3 * hidden + j) * recurrentStride
            let bi = Vec(repeating: bias[j]), bf = Vec(repeating: bias[hidden + j])
            let bg = Vec(repeating: bias[2 * hidden + j]), bo = Vec(repeating: bias[3 * hidden + j])
            let cp = cPrev + j * prevStride, c = cells + j * stride, h = hiddens + j * stride
            @inline(__always) func lanes(_ k: Int, _ n: Int) {
                let full = n == 16
                @inline(__always) func get(_ p: UnsafePointer<Float>) -> Vec { full ? load(p, k) : loadPartial(p + k, n) }
                @inline(__always) func put(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
                    if full { store(v, p, k) } else { storePartial(v, p + k, n) }
                }
                let i = (get(gi) + get(ri) + bi).fastSigmoid()
                let f = (get(gf) + get(rf) + bf).fastSigmoid()
                let g = (get(gg) + get(rg) + bg).fastTanh()
                let o = (get(go) + get(ro) + bo).fastSigmoid()
                let cNew = f * get(cp) + i * g
                put(i, gi); put(f, gf); put(g, gg); put(o, go)
                put(cNew, c)
                put(o * cNew.fastTanh(), h)
            }
            var k = 0
            while k + 16 <= count { lanes(k, 16); k += 16 }
            if k < count { lanes(k, count - k) }
        }
    }

    /// One step of the backward pass for hidden units `units` over `count` batch columns: from
    /// the output's gradient `dy`, the recurrent gradient `dh` and the cell's `dc` (row stride
    /// `stateStride`; `dc` is updated in place for the step before), the gradients of the four
    /// pre-activations. Runs on the calling thread.
    static func lstmCellsBackward(
        gates: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>, cells: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
        prevStride: Int, dy: UnsafePointer<Float>, stride: Int, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>, stateStride: Int,
        count: Int, hidden: Int, units: Range<Int>
    ) {
        for j in units {
            let (r0, r1, r2, r3) = (j * stride, (hidden + j) * stride, (2 * hidden + j) * stride, (3 * hidden + j) * stride)
            let (gi, gf, gg, go) = (gates + r0, gates + r1, gates + r2, gates + r3)
            let (di, df, dg, dout) = (dGates + r0, dGates + r1, dGates + r2, dGates + r3)
            let c = cells + j * stride, cp = cPrev + j * prevStride, dyj = dy + j * stride
            let dhj = dh + j * stateStride, dcj = dc + j * stateStride
            @inline(__always) func lanes(_ k: Int, _ n: Int) {
                let full = n == 16
                @inline(__always) func get(_ p: UnsafePointer<Float>) -> Vec { full ? load(p, k) : loadPartial(p + k, n) }
                @inline(__always) func put(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
                    if full { store(v, p, k) } else { storePartial(v, p + k, n) }
                }
                let i = get(gi), f = get(gf), g = get(gg), o = get(go)
                let tc = get(c).fastTanh()
                let dhTotal = get(dyj) + get(dhj)
                let dcTotal = dhTotal * o * (1 - tc * tc) + get(dcj)
                put(dcTotal * g * i * (1 - i), di)
                put(dcTotal * get(cp) * f * (1 - f), df)
                put(dcTotal * i * (1 - g * g), dg)
                put(dhTotal * tc * o * (1 - o), dout)
                put(dcTotal * f, dcj)
            }
            var k = 0
            while k + 16 <= count { lanes(k, 16); k += 16 }
            if k < count { lanes(k, count - k) }
        }
    }

    /// Runs `body` over ranges of the `hidden` units: split over the threads when `split` and the
    /// step is large enough, else the whole range on the calling thread.
    @inline(__always)
    static func forEachUnitRange(hidden: Int, columns: Int, split: Bool, _ body: (Range<Int>) -> Void) {
        let parts = split ? min(Threads.count, max(1, columns * hidden * 8 / elementwiseParallelThreshold), hidden) : 1
        if parts == 1 { return body(0..<hidden) }
        parallelFor(chunks: parts) { part in body(splitRange(hidden, parts: parts, part: part)) }
    }

    /// How many threads run an LSTM's steps side by side, each over its own batch columns: one
    /// when the batch is too small to split into vectors, or when the hidden weight is too large
    /// for every thread to stream it each step (above 2M floats, 8 MB: then the threads share
    /// each step's product instead, reading the weight once).
    static func lstmBatchParts(batch: Int, hidden: Int) -> Int {
        guard 4 * hidden * hidden <= 1 << 21 else { return 1 }
        return min(Threads.count, max(1, batch / 16))
    }
}

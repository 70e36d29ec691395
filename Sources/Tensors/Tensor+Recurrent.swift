// One LSTM layer over a whole sequence, forward and backward, as a few large matrix products and
// one fused element-wise pass per time step (PyTorch's `nn.LSTM` gate order: input, forget, cell,
// output). The input-to-hidden products of every step are one GEMM before the loop; each step
// adds its hidden-to-hidden product into its rows of that result; the backward pass runs the
// steps in reverse for the gate gradients only, then makes the weight and input gradients as
// three GEMMs over the whole sequence.

/// What `Tensor.lstmForward` keeps for `Tensor.lstmBackward`: the activated gates, the cell
/// states, the outputs, the initial state and the input, all batch-first.
public struct LSTMTrace: Sendable {
    /// `[B, T, I]`.
    public let input: Tensor
    /// `[B, T, 4H]`: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) of every step.
    public let gates: Tensor
    /// `[B, T, H]`: the cell state after every step.
    public let cells: Tensor
    /// `[B, T, H]`: the hidden state after every step (the layer's output).
    public let output: Tensor
    /// `[B, H]`: the state before the first step.
    public let h0: Tensor, c0: Tensor

    /// The hidden and cell states after the last step: `[B, H]` each.
    public var finalState: (h: Tensor, c: Tensor) {
        let (b, t, h) = (output.shape[0], output.shape[1], output.shape[2])
        guard t > 0 else { return (h0, c0) }
        let hT = Tensor(uninitializedShape: [b, h]), cT = Tensor(uninitializedShape: [b, h])
        for row in 0..<b {
            (hT.pointer + row * h).update(from: output.pointer + (row * t + t - 1) * h, count: h)
            (cT.pointer + row * h).update(from: cells.pointer + (row * t + t - 1) * h, count: h)
        }
        hT.storage.version &+= 1
        cT.storage.version &+= 1
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
        let gates = Tensor(uninitializedShape: [b, t, 4 * h])
        let cells = Tensor(uninitializedShape: [b, t, h])
        let output = Tensor(uninitializedShape: [b, t, h])
        if b > 0 && t > 0 {
            let g = gates.pointer, cs = cells.pointer, y = output.pointer
            // Every step's input-to-hidden product at once: [B*T, 4H].
            Kernels.sgemm(
                transA: false, transB: true, m: b * t, n: 4 * h, k: i, a: input.pointer, lda: i, b: weightIH.pointer, ldb: i, c: g, ldc: 4 * h)
            for step in 0..<t {
                let gStep = g + step * 4 * h
                let hPrev = step == 0 ? UnsafePointer(h0.pointer) : UnsafePointer(y + (step - 1) * h)
                let cPrev = step == 0 ? UnsafePointer(c0.pointer) : UnsafePointer(cs + (step - 1) * h)
                let prevStride = step == 0 ? h : t * h
                Kernels.sgemm(
                    transA: false, transB: true, m: b, n: 4 * h, k: h, a: hPrev, lda: prevStride, b: weightHH.pointer, ldb: h,
                    beta: 1, c: gStep, ldc: t * 4 * h)
                Kernels.lstmCells(
                    gates: gStep, gateStride: t * 4 * h, bias: bias.pointer, cPrev: cPrev, prevStride: prevStride,
                    c: cs + step * h, h: y + step * h, stride: t * h, rows: b, hidden: h)
            }
        }
        for tensor in [gates, cells, output] { tensor.storage.version &+= 1 }
        return LSTMTrace(input: input, gates: gates, cells: cells, output: output, h0: h0, c0: c0)
    }

    /// The gradients of an LSTM layer's input, weights and bias given the gradient of its
    /// outputs `[B, T, H]` (no gradient flows into the initial state, which a language model
    /// carries over detached). `weightIH` and `weightHH` are those the forward pass used.
    public static func lstmBackward(
        _ trace: LSTMTrace, outputGradient dy: Tensor, weightIH: Tensor, weightHH: Tensor
    ) -> LSTMGradients {
        let (b, t, i) = (trace.input.shape[0], trace.input.shape[1], trace.input.shape[2])
        let h = weightHH.shape[1]
        precondition(dy.shape == [b, t, h], "lstmBackward: output gradient \(dy.shape) is not [\(b), \(t), \(h)]")
        let dGates = Tensor(uninitializedShape: [b, t, 4 * h])
        let dInput = Tensor(uninitializedShape: [b, t, i])
        let dWIH = Tensor(uninitializedShape: [4 * h, i]), dWHH = Tensor(uninitializedShape: [4 * h, h])
        let dBias = Tensor.zeros([4 * h])
        if b > 0 && t > 0 {
            let dg = dGates.pointer
            // The gradient reaching the hidden state through the next step, and the cell's.
            let dh = UnsafeMutablePointer<Float>.allocate(capacity: b * h)
            let dc = UnsafeMutablePointer<Float>.allocate(capacity: b * h)
            defer { dh.deallocate(); dc.deallocate() }
            dc.initialize(repeating: 0, count: b * h)
            for step in stride(from: t - 1, through: 0, by: -1) {
                if step < t - 1 {
                    Kernels.sgemm(
                        transA: false, transB: false, m: b, n: h, k: 4 * h, a: dg + (step + 1) * 4 * h, lda: t * 4 * h,
                        b: weightHH.pointer, ldb: h, c: dh, ldc: h)
                } else {
                    dh.update(repeating: 0, count: b * h)
                }
                let cPrev = step == 0 ? UnsafePointer(trace.c0.pointer) : UnsafePointer(trace.cells.pointer + (step - 1) * h)
                Kernels.lstmCellsBackward(
                    gates: trace.gates.pointer + step * 4 * h, gateStride: t * 4 * h, dGates: dg + step * 4 * h,
                    c: trace.cells.pointer + step * h, cPrev: cPrev, prevStride: step == 0 ? h : t * h, stride: t * h,
                    dy: dy.pointer + step * h, dh: dh, dc: dc, rows: b, hidden: h)
            }
            // The hidden state each step started from, [B*T, H]: h0, then the outputs shifted by one.
            let hPrev = UnsafeMutablePointer<Float>.allocate(capacity: b * t * h)
            defer { hPrev.deallocate() }
            for row in 0..<b {
                (hPrev + row * t * h).update(from: trace.h0.pointer + row * h, count: h)
                if t > 1 { (hPrev + (row * t + 1) * h).update(from: trace.output.pointer + row * t * h, count: (t - 1) * h) }
            }
            Kernels.sgemm(
                transA: false, transB: false, m: b * t, n: i, k: 4 * h, a: dg, lda: 4 * h, b: weightIH.pointer, ldb: i,
                c: dInput.pointer, ldc: i)
            Kernels.sgemm(
                transA: true, transB: false, m: 4 * h, n: i, k: b * t, a: dg, lda: 4 * h, b: trace.input.pointer, ldb: i,
                c: dWIH.pointer, ldc: i)
            Kernels.sgemm(
                transA: true, transB: false, m: 4 * h, n: h, k: b * t, a: dg, lda: 4 * h, b: hPrev, ldb: h, c: dWHH.pointer, ldc: h)
            Kernels.columnSums(dg, rows: b * t, columns: 4 * h, into: dBias.pointer)
        } else {
            dInput.pointer.update(repeating: 0, count: dInput.count)
            dWIH.pointer.update(repeating: 0, count: dWIH.count)
            dWHH.pointer.update(repeating: 0, count: dWHH.count)
        }
        for tensor in [dGates, dInput, dWIH, dWHH, dBias] { tensor.storage.version &+= 1 }
        return LSTMGradients(input: dInput, weightIH: dWIH, weightHH: dWHH, bias: dBias)
    }
}

extension Kernels {
    /// One step's cell update for `rows` batch rows: the pre-activations in `gates` (plus
    /// `bias`) become the activated gates in place, and the new cell and hidden states are
    /// written to `c` and `h`. Rows are `gateStride`, `prevStride` and `stride` floats apart.
    static func lstmCells(
        gates: UnsafeMutablePointer<Float>, gateStride: Int, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
        prevStride: Int, c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, stride: Int, rows: Int, hidden: Int
    ) {
        let s = UncheckedSendable((gates, bias, cPrev, c, h))
        let parts = min(Threads.count, max(1, rows * hidden * 8 / elementwiseParallelThreshold), rows)
        parallelFor(chunks: parts) { part in
            let (gates, bias, cPrev, c, h) = s.value
            for r in splitRange(rows, parts: parts, part: part) {
                let g = gates + r * gateStride, cp = cPrev + r * prevStride, cr = c + r * stride, hr = h + r * stride
                @inline(__always) func cell(_ j: Int, _ lanes: Int) {
                    let full = lanes == 16
                    @inline(__always) func get(_ p: UnsafePointer<Float>) -> Vec { full ? load(p, j) : loadPartial(p + j, lanes) }
                    let gi = (get(g) + get(bias)).sigmoid()
                    let gf = (get(g + hidden) + get(bias + hidden)).sigmoid()
                    let gg = (get(g + 2 * hidden) + get(bias + 2 * hidden)).tanh()
                    let go = (get(g + 3 * hidden) + get(bias + 3 * hidden)).sigmoid()
                    let cNew = gf * get(cp) + gi * gg
                    let hNew = go * cNew.tanh()
                    if full {
                        store(gi, g, j); store(gf, g + hidden, j); store(gg, g + 2 * hidden, j); store(go, g + 3 * hidden, j)
                        store(cNew, cr, j); store(hNew, hr, j)
                    } else {
                        storePartial(gi, g + j, lanes); storePartial(gf, g + hidden + j, lanes)
                        storePartial(gg, g + 2 * hidden + j, lanes); storePartial(go, g + 3 * hidden + j, lanes)
                        storePartial(cNew, cr + j, lanes); storePartial(hNew, hr + j, lanes)
                    }
                }
                var j = 0
                while j + 16 <= hidden { cell(j, 16); j += 16 }
                if j < hidden { cell(j, hidden - j) }
            }
        }
    }

    /// One step of the backward pass for `rows` batch rows: from the output's gradient `dy`,
    /// the recurrent gradient `dh` and the cell's `dc` (updated in place for the step before),
    /// the gradients of the four pre-activations, written to `dGates`.
    static func lstmCellsBackward(
        gates: UnsafePointer<Float>, gateStride: Int, dGates: UnsafeMutablePointer<Float>, c: UnsafePointer<Float>,
        cPrev: UnsafePointer<Float>, prevStride: Int, stride: Int, dy: UnsafePointer<Float>, dh: UnsafePointer<Float>,
        dc: UnsafeMutablePointer<Float>, rows: Int, hidden: Int
    ) {
        let s = UncheckedSendable((gates, dGates, c, cPrev, dy, dh, dc))
        let parts = min(Threads.count, max(1, rows * hidden * 8 / elementwiseParallelThreshold), rows)
        parallelFor(chunks: parts) { part in
            let (gates, dGates, c, cPrev, dy, dh, dc) = s.value
            for r in splitRange(rows, parts: parts, part: part) {
                let g = gates + r * gateStride, dg = dGates + r * gateStride
                let cr = c + r * stride, cp = cPrev + r * prevStride, dyr = dy + r * stride
                let dhr = dh + r * hidden, dcr = dc + r * hidden
                @inline(__always) func cell(_ j: Int, _ lanes: Int) {
                    let full = lanes == 16
                    @inline(__always) func get(_ p: UnsafePointer<Float>) -> Vec { full ? load(p, j) : loadPartial(p + j, lanes) }
                    let gi = get(g), gf = get(g + hidden), gg = get(g + 2 * hidden), go = get(g + 3 * hidden)
                    let tc = get(cr).tanh()
                    let dhTotal = get(dyr) + get(dhr)
                    let dcTotal = dhTotal * go * (1 - tc * tc) + get(dcr)
                    let di = dcTotal * gg * gi * (1 - gi)
                    let df = dcTotal * get(cp) * gf * (1 - gf)
                    let dgg = dcTotal * gi * (1 - gg * gg)
                    let dout = dhTotal * tc * go * (1 - go)
                    let dcPrev = dcTotal * gf
                    if full {
                        store(di, dg, j); store(df, dg + hidden, j); store(dgg, dg + 2 * hidden, j); store(dout, dg + 3 * hidden, j)
                        store(dcPrev, dcr, j)
                    } else {
                        storePartial(di, dg + j, lanes); storePartial(df, dg + hidden + j, lanes)
                        storePartial(dgg, dg + 2 * hidden + j, lanes); storePartial(dout, dg + 3 * hidden + j, lanes)
                        storePartial(dcPrev, dcr + j, lanes)
                    }
                }
                var j = 0
                while j + 16 <= hidden { cell(j, 16); j += 16 }
                if j < hidden { cell(j, hidden - j) }
            }
        }
    }

    /// `out[j] += Σ_r a[r, j]` over a row-major `rows × columns` matrix.
    static func columnSums(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = a + r * columns
            var j = 0
            while j + 16 <= columns {
                store(load(out, j) + load(row, j), out, j)
                j += 16
            }
            while j < columns {
                out[j] += row[j]
                j += 1
            }
        }
    }
}

// 2-D convolution on NCHW tensors as im2col + GEMM, forward and backward.
//
// The batch is processed in tiles of samples whose columns fit a bounded buffer (so a large
// input never materialises one huge im2col matrix). For a tile, with P = samples·Hout·Wout and
// K = Cin·kh·kw, each GEMM is arranged so that its large operand is cheap to pack or read in place
// (measured: the weight gradient as dWᵀ beat dW from a transposed im2col by 20%):
//   forward:  Y[Cout, P] = W[Cout, K] • cols[K, P]
//   backward: dWᵀ[K, Cout] += cols[K, P] • dYᵀ[P, Cout]
//             dcols[K, P] = Wᵀ[K, Cout] • dY[Cout, P] → col2im → dX,   db = Σ dY
// A 1×1 convolution with stride 1 and no padding skips im2col for a single sample. Kernel taps
// that only ever see padding are left out of K (with the matching weight columns). 3×3, stride-1
// convolutions over maps large enough to gain go through Winograd's method instead
// (`Kernels/Winograd.swift`, chosen by `WinogradGeometry.init?(_:outChannels:)`), and those over
// maps of a few pixels as one dense product (`Kernels/DenseConvolution.swift`).

/// How `Tensor.conv2d` computes a convolution: tests compare the specialised paths with im2col.
enum ConvolutionMethod {
    /// Winograd's method or the dense product where they suit the geometry, im2col otherwise.
    case fastest
    /// im2col and GEMM always.
    case im2col
}

extension Tensor {
    /// Floats of im2col columns processed at once (64 MB): the tile of samples is sized to fit.
    static let convolutionColumnsBudget = 1 << 20

    /// The geometry of `weight` sliding over `input`; traps naming the shapes when they do not fit.
    static func convolutionGeometry(_ input: Tensor, _ weight: Tensor, stride: (Int, Int), padding: (Int, Int)) -> ConvGeometry {
        guard input.rank == 4, weight.rank == 4, input.shape[1] == weight.shape[1] else {
            fatalError(
                shapeMismatchMessage(
                    op: "conv2d", input.shape, weight.shape,
                    reason: "do not fit: expected input [N, C, H, W] and weight [Cout, C, kh, kw] with the same C"))
        }
        guard stride.0 > 0, stride.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            fatalError("conv2d: stride \(stride) must be positive and padding \(padding) non-negative")
        }
        let g = ConvGeometry(
            channels: input.shape[1], height: input.shape[2], width: input.shape[3],
            kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding)
        guard input.shape[2] + 2 * padding.0 >= weight.shape[2], input.shape[3] + 2 * padding.1 >= weight.shape[3] else {
            fatalError(
                shapeMismatchMessage(
                    op: "conv2d", input.shape, weight.shape,
                    reason: "do not fit: the kernel is larger than the padded input"))
        }
        return g
    }

    /// Samples per tile for this geometry.
    static func convolutionTile(_ g: ConvGeometry, batch: Int) -> Int {
        Swift.max(1, Swift.min(batch, convolutionColumnsBudget / Swift.max(1, g.patchSize * g.outPixels)))
    }

    /// The weight as the GEMM uses it: `[Cout, C·T]` with only the taps in use.
    static func gemmWeight(_ weight: Tensor, _ g: ConvGeometry) -> Tensor {
        guard g.prunesTaps else { return weight.detach() }
        let result = Tensor(uninitializedShape: [weight.shape[0], g.patchSize])
        Kernels.gatherTaps(
            weight.pointer, outChannels: weight.shape[0], channels: g.channels, kernel: g.kernelH * g.kernelW,
            positions: g.taps, result.pointer)
        return result
    }

    /// For a shifted copy, the geometry of the convolution that maps its output gradient
    /// (`outChannels` channels, same size) to its input gradient.
    static func transposedGeometry(_ g: ConvGeometry, outChannels: Int) -> ConvGeometry {
        ConvGeometry(
            channels: outChannels, height: g.height, width: g.width, kernel: (g.kernelH, g.kernelW),
            stride: (1, 1), padding: (g.padH, g.padW))
    }

    /// The weight of `transposedGeometry`'s convolution: `[C, Cout·T]`, channels swapped and the
    /// kernel rotated by 180°; read from the forward pass's gathered weight when there is one
    /// (the full weight of a 1×1 map is 9 times larger).
    static func flippedWeight(_ weight: Tensor, gathered: Tensor?, _ g: ConvGeometry) -> Tensor {
        let (cout, t) = (weight.shape[0], g.taps.count)
        let result = Tensor(uninitializedShape: [g.channels, cout * t])
        if let gathered {
            Kernels.gatherTaps(
                gathered.pointer, outChannels: cout, channels: g.channels, kernel: t,
                positions: (0..<t).map { t - 1 - $0 }, swapChannels: true, result.pointer)
        } else {
            let kernel = g.kernelH * g.kernelW
            Kernels.gatherTaps(
                weight.pointer, outChannels: cout, channels: g.channels, kernel: kernel,
                positions: g.taps.map { kernel - 1 - $0 }, swapChannels: true, result.pointer)
        }
        return result
    }

    /// Scratch for a tile's im2col columns `[K, P]` and, for shifted copies, the channel rows
    /// `[C, P]` they are read from; both with the margins a shifted copy reads past a row's ends.
    struct ColumnsWorkspace {
        let g: ConvGeometry
        let margin: Int
        private let columnsBuffer: AlignedBuffer, rowsBuffer: AlignedBuffer?

        init(_ g: ConvGeometry, tile: Int, needsColumns: Bool = true) {
            self.g = g
            margin = g.isShiftedCopy ? (g.shiftMargin + 15) / 16 * 16 : 0
            columnsBuffer = AlignedBuffer(count: needsColumns ? g.patchSize * tile * g.outPixels + 2 * margin : 1)
            rowsBuffer = g.isShiftedCopy ? AlignedBuffer(count: g.channels * tile * g.inPixels + 2 * margin) : nil
        }

        /// The columns, `[K, P]`.
        var columns: UnsafeMutablePointer<Float> { columnsBuffer.pointer + margin }
        /// The channel rows, `[C, P]` (shifted copies only).
        var channelRows: UnsafeMutablePointer<Float> { rowsBuffer!.pointer + margin }

        /// im2col of `samples` NCHW images at `x` into `columns`.
        func fillColumns(from x: UnsafePointer<Float>, samples: Int) {
            if g.isShiftedCopy {
                Kernels.nchwToChannelRows(x, samples: samples, pixels: g.inPixels, channels: g.channels, channelRows)
                Kernels.im2colShifted(channelRows, samples: samples, g, columns)
            } else {
                Kernels.im2col(x, samples: samples, g, columns)
            }
        }

        /// col2im of `columns` into the `samples` NCHW images at `dx`: written for shifted copies,
        /// added to what `dx` holds otherwise.
        func scatterColumns(samples: Int, into dx: UnsafeMutablePointer<Float>) {
            if g.isShiftedCopy {
                Kernels.col2imShifted(columns, samples: samples, g, channelRows)
                Kernels.channelRowsToNCHW(channelRows, samples: samples, pixels: g.inPixels, channels: g.channels, dx)
            } else {
                Kernels.col2im(columns, samples: samples, g, dx)
            }
        }

        func free() {
            columnsBuffer.free()
            rowsBuffer?.free()
        }
    }

    /// True when a sample's input already is its im2col matrix.
    static func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
    }

    /// 2-D convolution (PyTorch's `F.conv2d`): the result is `[N, Cout, Hout, Wout]` with
    /// `Hout = (H + 2·padding - kh) / stride + 1` (and likewise `Wout`). Traps, naming both
    /// shapes, when they do not fit (layers check before a batch gets here).
    ///
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[Cout, C, kh, kw]`.
    ///   - bias: `[Cout]`, or nil.
    ///   - stride: (vertical, horizontal) steps of the window, positive.
    ///   - padding: zeros added on each side (vertical, horizontal).
    public static func conv2d(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil,
        stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
    ) -> Tensor {
        conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, method: .fastest)
    }

    /// `conv2d` by `method` (`conv2d` always takes the fastest).
    static func conv2d(
        _ input: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), method: ConvolutionMethod
    ) -> Tensor {
        let g = convolutionGeometry(input, weight, stride: stride, padding: padding)
        if let bias, bias.shape != [weight.shape[0]] {
            fatalError(shapeMismatchMessage(op: "conv2d", weight.shape, bias.shape, reason: "do not fit: the bias needs one value per output channel"))
        }
        let epilogue = Kernels.ChannelEpilogue.bias(bias.map { UnsafePointer($0.pointer) })
        let result: Tensor, w: Tensor?
        let dense = DenseConvolution(g)
        if method == .fastest, let dense {
            let m = denseWeight(weight, dense)
            result = denseConvolved(input, weight: m, g, bias: bias)
            w = m
        } else if method == .fastest, let wg = WinogradGeometry(g, outChannels: weight.shape[0]) {
            result = winogradConvolved(input, weight: winogradWeight(weight), wg, epilogue)
            w = nil
        } else {
            let gathered = gemmWeight(weight, g)
            result = convolved(
                input,
                weight: Kernels.PackedPanels(gathered.pointer, lda: g.patchSize, rows: weight.shape[0], depth: g.patchSize),
                g, epilogue)
            w = gathered
        }
        let operation = Operation.conv2d(
            stride: [stride.0, stride.1], padding: [padding.0, padding.1],
            gemmWeight: g.prunesTaps || (dense != nil && method == .fastest) ? w : nil)
        return result.recorded(operation, inputs: bias.map { [input, weight, $0] } ?? [input, weight])
    }

    /// The dense matrix `M[Cout·Pout, C·Pin]` of `weight` for the small-map geometry `d`
    /// (`Kernels/DenseConvolution.swift`), shaped `[Cout, Pout, C·Pin]`: a rank no gathered
    /// im2col weight (`[Cout, C·T]`) has, so backward never takes one for the other.
    static func denseWeight(_ weight: Tensor, _ d: DenseConvolution) -> Tensor {
        let cout = weight.shape[0]
        let result = Tensor(uninitializedShape: [cout, d.outPixels, d.depth])
        Kernels.denseConvolutionWeight(weight.pointer, outChannels: cout, d, result.pointer)
        return result
    }

    /// `Yᵀ[Cout·Pout, N] = M • Xᵀ` for the NCHW samples `x` (`[N, C·Pin]`) and `denseWeight`'s
    /// matrix `m`, into `product`.
    static func denseProduct(_ x: UnsafePointer<Float>, samples n: Int, weight m: Tensor, _ product: UnsafeMutablePointer<Float>) {
        let (rows, depth) = (m.shape[0] * m.shape[1], m.shape[2])
        Kernels.sgemm(
            transA: false, transB: true, m: rows, n: n, k: depth, a: m.pointer, lda: depth, b: x, ldb: depth,
            c: product, ldc: n)
    }

    /// `conv2d` of NCHW `input` as one dense product with `denseWeight`'s matrix `m`.
    private static func denseConvolved(_ input: Tensor, weight m: Tensor, _ g: ConvGeometry, bias: Tensor?) -> Tensor {
        let (n, cout) = (input.shape[0], m.shape[0])
        let width = cout * g.outPixels
        let result = Tensor(uninitializedShape: [n, cout, g.outH, g.outW])
        let product = AlignedBuffer(count: width * n)
        defer { product.free() }
        denseProduct(input.pointer, samples: n, weight: m, product.pointer)
        Kernels.stridedCopy(product.pointer, srcStrides: [1, n], result.pointer, dstStrides: [width, 1], shape: [n, width])
        if let bias {
            let epilogue = Kernels.ChannelEpilogue.bias(UnsafePointer(bias.pointer))
            for s in 0..<n {
                for o in 0..<cout {
                    let map = result.pointer + (s * cout + o) * g.outPixels
                    Kernels.applyEpilogue(epilogue, channel: o, map, map, residual: nil, pixels: g.outPixels)
                }
            }
        }
        return result
    }

    /// The weight `[Cout, C, 3, 3]` transformed for Winograd's method, `[16, Cout, C]`.
    static func winogradWeight(_ weight: Tensor) -> Tensor {
        let (o, c) = (weight.shape[0], weight.shape[1])
        let u = Tensor(uninitializedShape: [16, o, c])
        Kernels.winogradWeight(weight.pointer, outChannels: o, channels: c, u.pointer)
        return u
    }

    /// `conv2d` of NCHW `input` by Winograd's method, with the transformed weight `u` (`[16, Cout, C]`).
    private static func winogradConvolved(
        _ input: Tensor, weight u: Tensor, _ g: WinogradGeometry, _ epilogue: Kernels.ChannelEpilogue
    ) -> Tensor {
        let (n, cout) = (input.shape[0], u.shape[1])
        let result = Tensor(uninitializedShape: [n, cout, g.outH, g.outW])
        Kernels.winogradConvolution(
            input.pointer, layout: .nchw(channels: g.channels), samples: n, g, weight: u.pointer, outChannels: cout,
            epilogue: epilogue, result.pointer, outLayout: .nchw(channels: cout))
        return result
    }

    /// A convolution's weight prepared as `ChannelMajorMaps.convolved` takes it, the way
    /// `conv2d` would use it for this geometry: an inference plan that runs many batches with the
    /// same weight prepares it once.
    enum InferenceWeight: @unchecked Sendable {
        /// `gemmWeight(weight, g)` packed for the GEMM, `[Cout, C·T]`.
        case gemm(Kernels.PackedPanels)
        /// `winogradWeight(weight)`, `[16, Cout, C]`, for the geometry's `WinogradGeometry`.
        case winograd(Tensor, WinogradGeometry)
        /// `denseWeight(weight, d)`, `[Cout, Pout, C·Pin]`, for the geometry's `DenseConvolution`.
        case dense(Tensor, DenseConvolution)

        /// Output channels.
        var outChannels: Int {
            switch self {
            case .gemm(let panels): panels.rows
            case .winograd(let u, _): u.shape[1]
            case .dense(let matrix, _): matrix.shape[0]
            }
        }
    }

    /// `weight` prepared for inference over geometry `g` (see `InferenceWeight`), as `conv2d`
    /// would compute with it.
    static func inferenceWeight(_ weight: Tensor, _ g: ConvGeometry) -> InferenceWeight {
        if let d = DenseConvolution(g) { return .dense(denseWeight(weight, d), d) }
        if let wg = WinogradGeometry(g, outChannels: weight.shape[0]) { return .winograd(winogradWeight(weight), wg) }
        let w = gemmWeight(weight, g)
        return .gemm(Kernels.PackedPanels(w.pointer, lda: g.patchSize, rows: weight.shape[0], depth: g.patchSize))
    }

    /// The convolution itself, tile by tile of samples: `w` is the packed GEMM weight
    /// `[Cout, C·T]`, and `epilogue` is applied per output channel as each tile is laid out (its
    /// residual, if any, indexed from the first sample).
    private static func convolved(
        _ input: Tensor, weight w: Kernels.PackedPanels, _ g: ConvGeometry,
        _ epilogue: Kernels.ChannelEpilogue
    ) -> Tensor {
        let n = input.shape[0], cout = w.rows
        let result = Tensor(uninitializedShape: [n, cout, g.outH, g.outW])
        let tile = convolutionTile(g, batch: n)
        // Shifted copies never build their columns: the GEMM packs them from the channel rows.
        let workspace = ColumnsWorkspace(g, tile: tile, needsColumns: !g.isShiftedCopy && !(isPointwise(g) && tile == 1))
        let product = AlignedBuffer(count: cout * tile * g.outPixels)
        defer { workspace.free(); product.free() }
        var s0 = 0
        while s0 < n {
            let t = Swift.min(tile, n - s0), p = t * g.outPixels
            let x = input.pointer + s0 * g.channels * g.inPixels
            if g.isShiftedCopy {
                Kernels.nchwToChannelRows(x, samples: t, pixels: g.inPixels, channels: g.channels, workspace.channelRows)
                Kernels.shiftedConvolution(weight: w, rows: workspace.channelRows, samples: t, g, product.pointer)
            } else {
                let a: UnsafePointer<Float>
                if isPointwise(g) && t == 1 {
                    a = UnsafePointer(x)  // one sample's [C, HW] block is its own columns
                } else {
                    workspace.fillColumns(from: x, samples: t)
                    a = UnsafePointer(workspace.columns)
                }
                Kernels.sgemm(packed: w, n: p, b: a, ldb: p, c: product.pointer, ldc: p)
            }
            var tileEpilogue = epilogue
            tileEpilogue.residual = epilogue.residual.map { $0 + s0 * cout * g.outPixels }
            Kernels.channelRowsToNCHW(
                product.pointer, samples: t, pixels: g.outPixels, channels: cout, epilogue: tileEpilogue,
                result.pointer + s0 * cout * g.outPixels)
            s0 += t
        }
        return result
    }

    /// The gradients of `conv2d` with respect to its input, weight and bias (each only when
    /// asked for), given `grad`, the gradient of its output. `gemmWeight` is the forward pass's
    /// gathered weight matrix, when it made one.
    static func convolutionBackward(
        _ grad: Tensor, input: Tensor, weight: Tensor, stride: (Int, Int), padding: (Int, Int),
        gemmWeight saved: Tensor? = nil,
        needInput: Bool, needWeight: Bool, needBias: Bool, method: ConvolutionMethod = .fastest
    ) -> (Tensor?, Tensor?, Tensor?) {
        let g = convolutionGeometry(input, weight, stride: stride, padding: padding)
        let (n, cout, k) = (input.shape[0], weight.shape[0], g.patchSize)
        if method == .fastest, let dense = DenseConvolution(g) {
            return denseConvolutionBackward(
                grad, input: input, weight: weight, denseWeight: saved, dense, needInput: needInput, needWeight: needWeight,
                needBias: needBias)
        }
        if method == .fastest, let wg = WinogradGeometry(g, outChannels: cout) {
            let dx = needInput ? Tensor(uninitializedShape: input.shape) : nil
            let dw = needWeight ? Tensor(uninitializedShape: weight.shape) : nil
            Kernels.winogradBackward(
                grad.pointer, x: input.pointer, weight: weight.pointer, samples: n, wg, outChannels: cout,
                dx: dx?.pointer, dw: dw?.pointer)
            return (dx, dw, needBias ? grad.sum(dims: [0, 2, 3]) : nil)
        }
        // A shifted copy writes every element of dx; col2im adds into it.
        let dx: Tensor? = !needInput ? nil : g.isShiftedCopy ? Tensor(uninitializedShape: input.shape) : Tensor.zeros(input.shape)
        let tile = convolutionTile(g, batch: n)
        // A shifted copy's input gradient is itself a shifted-copy convolution of dY, with the
        // weight's channels swapped and its kernel rotated: no dcols, no col2im.
        let transposed = needInput && g.isShiftedCopy ? transposedGeometry(g, outChannels: cout) : nil
        let w = !needInput ? nil : transposed != nil ? flippedWeight(weight, gathered: saved, g) : saved ?? gemmWeight(weight, g)
        let packedFlipped = transposed.map { Kernels.PackedPanels(w!.pointer, lda: $0.patchSize, rows: g.channels, depth: $0.patchSize) }
        let workspace = ColumnsWorkspace(g, tile: tile, needsColumns: needWeight || transposed == nil)
        let cols = workspace.columns
        // dY as channel rows, with the margins a shifted copy reads past its ends.
        let dyMargin = transposed == nil ? 0 : workspace.margin
        let dyBuffer = AlignedBuffer(count: tile * g.outPixels * cout + 2 * dyMargin)
        let dyRows = dyBuffer.pointer + dyMargin
        // dWᵀ[K, Cout], accumulated over the tiles and transposed into dW at the end.
        let dwT = Tensor(uninitializedShape: needWeight ? [k, cout] : [0])
        defer { workspace.free(); dyBuffer.free() }
        var s0 = 0
        while s0 < n {
            let t = Swift.min(tile, n - s0), p = t * g.outPixels
            Kernels.nchwToChannelRows(grad.pointer + s0 * cout * g.outPixels, samples: t, pixels: g.outPixels, channels: cout, dyRows)
            if needWeight {
                // dWᵀ[K, Cout] += cols[K, P] • dYᵀ[P, Cout]
                workspace.fillColumns(from: input.pointer + s0 * g.channels * g.inPixels, samples: t)
                Kernels.sgemm(
                    transA: false, transB: true, m: k, n: cout, k: p, a: cols, lda: p,
                    b: dyRows, ldb: p, beta: s0 == 0 ? 0 : 1, c: dwT.pointer, ldc: cout)
            }
            if let dx, let w {
                let dxTile = dx.pointer + s0 * g.channels * g.inPixels
                if let transposed, let packedFlipped {
                    Kernels.shiftedConvolution(weight: packedFlipped, rows: dyRows, samples: t, transposed, workspace.channelRows)
                    Kernels.channelRowsToNCHW(workspace.channelRows, samples: t, pixels: g.inPixels, channels: g.channels, dxTile)
                } else {
                    // dcols[K, P] = Wᵀ[K, Cout] • dY[Cout, P], then scattered back into dX.
                    Kernels.sgemm(
                        transA: true, transB: false, m: k, n: p, k: cout, a: w.pointer, lda: k,
                        b: dyRows, ldb: p, c: cols, ldc: p)
                    workspace.scatterColumns(samples: t, into: dxTile)
                }
            }
            s0 += t
        }
        let db = needBias ? grad.sum(dims: [0, 2, 3]) : nil
        guard needWeight else { return (dx, nil, db) }
        // dWᵀ[C·T, Cout] back to [Cout, C, kh, kw]; taps left out of the GEMM get zero gradient.
        let dw = Tensor(uninitializedShape: weight.shape)
        Kernels.scatterTransposedTaps(
            dwT.pointer, outChannels: cout, channels: g.channels, kernel: g.kernelH * g.kernelW,
            taps: g.taps, dw.pointer)
        return (dx, dw, db)
    }

    /// `convolutionBackward` for a geometry with a dense form (`d`): `dX[N, C·Pin] = dY • M`,
    /// `dM = dYᵀ • X` summed tap by tap into dW. `denseWeight` is what the forward pass kept: its
    /// dense matrix is used, an im2col pass's gathered weight ignored.
    private static func denseConvolutionBackward(
        _ grad: Tensor, input: Tensor, weight: Tensor, denseWeight saved: Tensor?, _ d: DenseConvolution,
        needInput: Bool, needWeight: Bool, needBias: Bool
    ) -> (Tensor?, Tensor?, Tensor?) {
        let (n, cout) = (input.shape[0], weight.shape[0])
        let width = cout * d.outPixels
        var dx: Tensor? = nil
        if needInput {
            let m = saved.flatMap { $0.rank == 3 ? $0 : nil } ?? denseWeight(weight, d)
            let result = Tensor(uninitializedShape: input.shape)
            Kernels.sgemm(
                transA: false, transB: false, m: n, n: d.depth, k: width, a: grad.pointer, lda: width,
                b: m.pointer, ldb: d.depth, c: result.pointer, ldc: d.depth)
            withExtendedLifetime(m) {}
            dx = result
        }
        var dw: Tensor? = nil
        if needWeight {
            let dm = AlignedBuffer(count: width * d.depth)
            defer { dm.free() }
            Kernels.sgemm(
                transA: true, transB: false, m: width, n: d.depth, k: n, a: grad.pointer, lda: width,
                b: input.pointer, ldb: d.depth, c: dm.pointer, ldc: d.depth)
            let result = Tensor(uninitializedShape: weight.shape)
            Kernels.denseConvolutionWeightGradient(dm.pointer, outChannels: cout, d, result.pointer)
            dw = result
        }
        return (dx, dw, needBias ? grad.sum(dims: [0, 2, 3]) : nil)
    }
}

// Feature maps kept channel-major between the layers of an inference pass.
//
// A convolution's GEMM reads its input as channel rows `[C, N·H·W]` and writes its output the
// same way, `[Cout, N·Hout·Wout]`. Between NCHW layers each convolution pays two layout copies
// (NCHW to channel rows before, channel rows to NCHW after); a network kept channel-major
// pays them once, at its input and output. Pooling works plane by plane, so it does not care.

/// A batch of feature maps stored channel-major, `[C, N, H, W]`: channel `c`'s planes for all
/// samples side by side, so each channel is one row of `N·H·W` floats, as a convolution's GEMM
/// reads and writes it. The buffer has readable margins before and after, so a 3×3 (up to 7×7)
/// "same" convolution reads its shifted rows in place. For inference (nothing records).
final class ChannelMajorMaps: @unchecked Sendable {
    /// The maps' size: `[channels, samples, height, width]`.
    let channels: Int, samples: Int, height: Int, width: Int
    /// Readable floats before the first and after the last map.
    let margin: Int
    private let buffer: AlignedBuffer

    /// Uninitialised maps of this size.
    init(channels: Int, samples: Int, height: Int, width: Int) {
        self.channels = channels; self.samples = samples; self.height = height; self.width = width
        margin = (3 * (width + 1) + 15) / 16 * 16
        buffer = AlignedBuffer(count: channels * samples * height * width + 2 * margin)
    }

    deinit { buffer.free() }

    /// The first map's first value; channel `c`, sample `s` starts at `(c·samples + s)·H·W`.
    var pointer: UnsafeMutablePointer<Float> { buffer.pointer + margin }
    var pixels: Int { height * width }
    /// `[N, C, H, W]`, the shape of the tensor these maps hold.
    var nchwShape: [Int] { [samples, channels, height, width] }

    /// The maps of an `[N, C, H, W]` tensor.
    convenience init(_ x: Tensor) {
        guard x.rank == 4 else { fatalError("ChannelMajorMaps: expected [N, C, H, W], got \(x.shape)") }
        self.init(channels: x.shape[1], samples: x.shape[0], height: x.shape[2], width: x.shape[3])
        Kernels.nchwToChannelRows(x.pointer, samples: samples, pixels: pixels, channels: channels, pointer)
    }

    /// The maps as an `[N, C, H, W]` tensor.
    func tensor() -> Tensor {
        let result = Tensor(uninitializedShape: nchwShape)
        Kernels.channelRowsToNCHW(pointer, samples: samples, pixels: pixels, channels: channels, result.pointer)
        return result
    }

    /// Max pooling of every map over the windows of `g` (as `Tensor.maxPool2d`), channel-major.
    func maxPooled(_ g: PoolGeometry) -> ChannelMajorMaps {
        precondition(g.height == height && g.width == width, "ChannelMajorMaps: the pooling geometry is for other maps")
        let result = ChannelMajorMaps(channels: channels, samples: samples, height: g.outH, width: g.outW)
        Kernels.maxPool(pointer, planes: channels * samples, g, result.pointer, argmax: nil)
        return result
    }

    /// Average pooling of every map over the windows of `g` (as `Tensor.avgPool2d`), channel-major.
    func averagePooled(_ g: PoolGeometry) -> ChannelMajorMaps {
        precondition(g.height == height && g.width == width, "ChannelMajorMaps: the pooling geometry is for other maps")
        let result = ChannelMajorMaps(channels: channels, samples: samples, height: g.outH, width: g.outW)
        Kernels.avgPool(pointer, planes: channels * samples, g, result.pointer)
        return result
    }

    /// `y·scale + shift` per channel (`y + shift` without a scale), plus a channel-major
    /// residual, then a ReLU, in place: an inference-mode batch norm's arithmetic, bit for bit
    /// (`Tensor.batchNorm`'s, and `convolved`'s epilogue's).
    func applyEpilogue(scale: Tensor?, shift: Tensor?, residual: ChannelMajorMaps?, relu: Bool) {
        if let residual {
            precondition(residual.nchwShape == nchwShape, "ChannelMajorMaps: the residual is \(residual.nchwShape), not \(nchwShape)")
        }
        Kernels.applyChannelEpilogue(
            pointer, samples: samples, pixels: pixels, channels: channels,
            epilogue: Kernels.ChannelEpilogue(
                scale: scale.map { UnsafePointer($0.pointer) }, shift: shift.map { UnsafePointer($0.pointer) },
                residual: residual.map { UnsafePointer($0.pointer) }, relu: relu))
        withExtendedLifetime((scale, shift, residual)) {}
    }

    /// A convolution of these maps followed by an inference-mode batch norm (`y·scale + shift`,
    /// or a bias alone: `y + shift`), an optional channel-major residual of the output's size,
    /// and an optional ReLU: the arithmetic of `Tensor.conv2d` then `Tensor.batchNorm`, bit for
    /// bit, without their layout copies.
    ///
    /// - Parameters:
    ///   - weight: `Tensor.inferenceWeight(weight, g)`.
    ///   - g: the convolution's geometry over these maps (`channels`, `height`, `width`).
    ///   - scale, shift: `[Cout]` each, or nil.
    func convolved(
        weight: Tensor.InferenceWeight, _ g: ConvGeometry, scale: Tensor?, shift: Tensor?,
        residual: ChannelMajorMaps?, relu: Bool
    ) -> ChannelMajorMaps {
        precondition(g.channels == channels && g.height == height && g.width == width, "ChannelMajorMaps: the geometry is for other maps")
        return Self.convolution(
            pointer, layout: .channelMajor(samples: samples), margin: margin, samples: samples,
            weight: weight, g, scale: scale, shift: shift, residual: residual, relu: relu)
    }

    /// `convolved` from an NCHW tensor (a network's first layer): the output is channel-major.
    static func convolved(
        _ x: Tensor, weight: Tensor.InferenceWeight, _ g: ConvGeometry, scale: Tensor?, shift: Tensor?,
        residual: ChannelMajorMaps?, relu: Bool
    ) -> ChannelMajorMaps {
        precondition(
            x.rank == 4 && x.shape[1] == g.channels && x.shape[2] == g.height && x.shape[3] == g.width,
            "ChannelMajorMaps: the geometry is for another input than \(x.shape)")
        return convolution(
            x.pointer, layout: .nchw(channels: g.channels), margin: 0, samples: x.shape[0],
            weight: weight, g, scale: scale, shift: shift, residual: residual, relu: relu)
    }

    private static func convolution(
        _ x: UnsafeMutablePointer<Float>, layout: Kernels.PlaneLayout, margin: Int, samples n: Int,
        weight: Tensor.InferenceWeight, _ g: ConvGeometry, scale: Tensor?, shift: Tensor?,
        residual: ChannelMajorMaps?, relu: Bool
    ) -> ChannelMajorMaps {
        let cout = weight.outChannels
        precondition(
            (scale?.shape ?? [cout]) == [cout] && (shift?.shape ?? [cout]) == [cout],
            "ChannelMajorMaps: the scale or shift does not fit the weight")
        let result = ChannelMajorMaps(channels: cout, samples: n, height: g.outH, width: g.outW)
        if let residual {
            precondition(residual.nchwShape == result.nchwShape, "ChannelMajorMaps: the residual is \(residual.nchwShape), not \(result.nchwShape)")
        }
        let w: Kernels.PackedPanels
        switch weight {
        case .gemm(let panels): w = panels
        case .winograd(let u, let wg):
            precondition(wg.channels == g.channels && wg.height == g.height && wg.width == g.width, "ChannelMajorMaps: the weight is for another geometry")
            // The epilogue goes in the output transform, with the arithmetic of `applyEpilogue`.
            let epilogue = Kernels.ChannelEpilogue(
                scale: scale.map { UnsafePointer($0.pointer) }, shift: shift.map { UnsafePointer($0.pointer) },
                residual: residual.map { UnsafePointer($0.pointer) }, relu: relu)
            Kernels.winogradConvolution(
                x, layout: layout, samples: n, wg, weight: u.pointer, outChannels: cout, epilogue: epilogue,
                result.pointer, outLayout: .channelMajor(samples: n))
            withExtendedLifetime((u, scale, shift, residual)) {}
            return result
        case .dense(let matrix, let d):
            denseConvolution(x, layout: layout, samples: n, matrix: matrix, d, outChannels: cout, result)
            result.applyEpilogue(scale: scale, shift: shift, residual: residual, relu: relu)
            return result
        }
        precondition(w.depth == g.patchSize, "ChannelMajorMaps: the weight does not fit the geometry")
        let p = n * g.outPixels
        if g.isShiftedCopy && layout.sampleStride == 1 && margin >= g.shiftMargin {
            // The input's channel rows are the shifted copy's source, read in place.
            Kernels.shiftedConvolution(weight: w, rows: x, samples: n, g, result.pointer)
        } else if Tensor.isPointwise(g) && layout.sampleStride == 1 {
            // The input's channel rows are the GEMM's B as they are.
            Kernels.sgemm(packed: w, n: p, b: x, ldb: p, c: result.pointer, ldc: p)
        } else {
            let tile = Tensor.convolutionTile(g, batch: n)
            let columns = AlignedBuffer(count: g.patchSize * tile * g.outPixels)
            defer { columns.free() }
            var s0 = 0
            while s0 < n {
                let t = Swift.min(tile, n - s0)
                Kernels.im2col(x + layout.plane(sample: s0, channel: 0) * g.inPixels, samples: t, g, columns.pointer, layout: layout)
                Kernels.sgemm(
                    packed: w, n: t * g.outPixels, b: columns.pointer, ldb: t * g.outPixels,
                    c: result.pointer + s0 * g.outPixels, ldc: p)
                s0 += t
            }
        }
        result.applyEpilogue(scale: scale, shift: shift, residual: residual, relu: relu)
        return result
    }

    /// `Tensor.conv2d`'s dense product (`Kernels/DenseConvolution.swift`) from maps in `layout`
    /// into the channel-major `result`: the same GEMM on the maps as NCHW, so the same bits.
    private static func denseConvolution(
        _ x: UnsafeMutablePointer<Float>, layout: Kernels.PlaneLayout, samples n: Int, matrix: Tensor,
        _ d: DenseConvolution, outChannels cout: Int, _ result: ChannelMajorMaps
    ) {
        let isNCHW = layout.channelStride == 1 || d.channels == 1
        let input = AlignedBuffer(count: isNCHW ? 1 : n * d.depth), product = AlignedBuffer(count: n * cout * d.outPixels)
        defer { input.free(); product.free() }
        if !isNCHW { Kernels.channelRowsToNCHW(x, samples: n, pixels: d.inPixels, channels: d.channels, input.pointer) }
        Tensor.denseProduct(isNCHW ? x : input.pointer, samples: n, weight: matrix, product.pointer)
        // [Cout, Pout, N] to channel-major [Cout, N, Pout].
        let pout = d.outPixels
        Kernels.stridedCopy(
            product.pointer, srcStrides: [pout * n, 1, n], result.pointer, dstStrides: [n * pout, pout, 1],
            shape: [cout, n, pout])
        withExtendedLifetime(matrix) {}
    }
}

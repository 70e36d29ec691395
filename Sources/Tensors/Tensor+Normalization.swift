// Batch normalisation over the channel axis (axis 1) of [N, C], [N, C, L] or [N, C, H, W].

extension Tensor {
    /// `(outer, channels, inner)` of a tensor normalised per channel on axis 1.
    private var channelView: (Int, Int, Int) {
        (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
    }

    /// Batch normalisation (PyTorch's `F.batch_norm`): in training, each channel is normalised by
    /// the batch's mean and biased variance, which are returned for the running statistics; in
    /// evaluation, by the given `runningMean` and `runningVariance`. Then `· weight + bias`, and
    /// with `relu: true` a ReLU in the same pass (forward and backward), as `batchNorm(...).relu()`.
    ///
    /// - Parameters:
    ///   - x: `[N, C]`, `[N, C, L]` or `[N, C, H, W]`.
    ///   - weight: `[C]`, the scale after normalising.
    ///   - bias: `[C]`, the shift after normalising.
    ///   - runningMean: `[C]`, the mean used in evaluation.
    ///   - runningVariance: `[C]`, the variance used in evaluation.
    ///   - training: normalise by the batch's statistics (true) or the running ones (false).
    ///   - eps: added to the variance before its square root.
    ///   - relu: apply a ReLU in the same pass.
    /// - Returns: the output (shaped as `x`) and the batch's mean and biased variance, `[C]` each
    ///   (the running statistics in evaluation).
    public static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVariance: Tensor,
        training: Bool, eps: Float, relu: Bool = false
    ) -> (output: Tensor, batchMean: Tensor, batchVariance: Tensor) {
        guard x.rank >= 2, weight.shape == [x.shape[1]], bias.shape == weight.shape,
            runningMean.shape == weight.shape, runningVariance.shape == weight.shape
        else {
            fatalError(
                shapeMismatchMessage(
                    op: "batch_norm", x.shape, weight.shape,
                    reason: "do not fit: expected [N, C, ...] input and per-channel [C] parameters and statistics"))
        }
        let (outer, channels, inner) = x.channelView
        var mean = runningMean.detach(), variance = runningVariance.detach()
        if training {
            guard outer * inner > 1 else {
                fatalError("batch_norm: expected more than 1 value per channel when training, got input \(x.shape)")
            }
            mean = Tensor(uninitializedShape: [channels])
            variance = Tensor(uninitializedShape: [channels])
            Kernels.channelStatistics(
                x.pointer, outer: outer, channels: channels, inner: inner,
                mean: mean.pointer, variance: variance.pointer)
        }
        let invStd = (variance.detach() + eps).mapped(RightScalarOp(op: PowOp(), scalar: Vec(repeating: -0.5)))
        let (scale, shift) = batchNormAffine(weight: weight, bias: bias, mean: mean, invStd: invStd)
        let result = channelAffine(x, scale: scale, shift: shift, relu: relu)
        let recorded = result.recorded(.batchNorm(mean: mean, invStd: invStd, training: training, relu: relu), x, weight, bias)
        return (recorded, mean, variance)
    }

    /// Batch norm as the per-channel affine map it is for given statistics: `y = x·scale + shift`
    /// with `scale = γ·invStd`, `shift = β - μ·scale` (`invStd = 1/√(variance + eps)`). All `[C]`.
    static func batchNormAffine(weight: Tensor, bias: Tensor, mean: Tensor, invStd: Tensor) -> (scale: Tensor, shift: Tensor) {
        let scale = weight.detach() * invStd
        return (scale, bias.detach() - mean.detach() * scale)
    }

    /// `x·scale + shift` per channel of axis 1 (then a ReLU): batch norm's arithmetic, recording
    /// nothing. `x` is `[N, C, ...]`, `scale` and `shift` `[C]`.
    static func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor, relu: Bool) -> Tensor {
        let (outer, channels, inner) = x.channelView
        let result = Tensor(uninitializedShape: x.shape)
        Kernels.channelAffine(
            x.pointer, nil, outer: outer, channels: channels, inner: inner, scale: scale.pointer,
            bScale: nil, shift: shift.pointer, relu: relu, result.pointer)
        return result
    }

    /// The gradients of `batchNorm` for its input, weight and bias. With a fused ReLU, `reluOutput`
    /// is the op's output: `g` counts only where it is positive.
    static func normalizationBackward(
        _ g: Tensor, input x: Tensor, weight: Tensor, mean: Tensor, invStd: Tensor,
        training: Bool, reluOutput: Tensor? = nil, needInput: Bool
    ) -> (Tensor?, Tensor, Tensor) {
        let (outer, channels, inner) = x.channelView
        let gate = reluOutput.map { UnsafePointer($0.pointer) }
        let sumG = Tensor(uninitializedShape: [channels]), sumGX = Tensor(uninitializedShape: [channels])
        Kernels.channelGradientSums(
            g.pointer, x.pointer, outer: outer, channels: channels, inner: inner,
            mean: mean.pointer, gate: gate, sumG: sumG.pointer, sumGX: sumGX.pointer)
        let dBias = sumG, dWeight = sumGX * invStd  // Σg and Σ g·x̂
        guard needInput else { return (nil, dWeight, dBias) }
        let k1 = weight.detach() * invStd  // γ/σ
        let dx = Tensor(uninitializedShape: x.shape)
        if training {
            // dx = γ/σ · (g - Σg/M - x̂·Σg·x̂/M) = k1·g + k2·x + k3
            let m = Float(outer * inner)
            let k2 = -(k1 * invStd * dWeight) / m
            let k3 = -(k2 * mean) - k1 * dBias / m
            Kernels.channelAffine(
                g.pointer, x.pointer, outer: outer, channels: channels, inner: inner,
                scale: k1.pointer, bScale: k2.pointer, shift: k3.pointer, gate: gate, dx.pointer)
        } else {
            let zero = Tensor.zeros([channels])
            Kernels.channelAffine(
                g.pointer, nil, outer: outer, channels: channels, inner: inner,
                scale: k1.pointer, bScale: nil, shift: zero.pointer, gate: gate, dx.pointer)
        }
        return (dx, dWeight, dBias)
    }
}

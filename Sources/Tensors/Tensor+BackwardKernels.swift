// The element-wise and scatter computations that the Autograd layer's backward rules need,
// kept here so that every hot loop stays in the Tensors layer. None of them is recorded.

extension Tensor {
    /// `grad` where `input > 0`, else 0 (relu's backward).
    package static func reluBackward(_ grad: Tensor, input: Tensor) -> Tensor { zipped(grad, input, ReluGradOp(), name: "relu_backward") }
    /// `grad * y * (1 - y)` (sigmoid's backward from its output).
    package static func sigmoidBackward(_ grad: Tensor, output: Tensor) -> Tensor { zipped(grad, output, SigmoidGradOp(), name: "sigmoid_backward") }
    /// `grad * (1 - y²)` (tanh's backward from its output).
    package static func tanhBackward(_ grad: Tensor, output: Tensor) -> Tensor { zipped(grad, output, TanhGradOp(), name: "tanh_backward") }
    /// `grad` where `lower <= input <= upper`, else 0 (clamp's backward).
    package static func clampBackward(_ grad: Tensor, input: Tensor, lower: Float, upper: Float) -> Tensor {
        zipped(grad, input, ClampGradOp(lower: lower, upper: upper), name: "clamp_backward")
    }
    /// 1 where `a` beats `b` (is larger, or smaller when `largest` is false), 1/2 on ties, else 0.
    package static func winnerShare(_ a: Tensor, _ b: Tensor, largest: Bool) -> Tensor {
        zipped(a, b, WinnerShareOp(largest: largest), name: "maximum_backward")
    }

    /// `grad` summed over the axes that broadcasting added or stretched, so that it has `shape`.
    package func unbroadcast(to shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        let extra = rank - shape.count
        var axes = Array(0..<extra)
        for d in 0..<shape.count where shape[d] == 1 && self.shape[d + extra] != 1 { axes.append(d + extra) }
        let summed = axes.isEmpty ? self : sum(dims: axes, keepDim: true)
        return summed.reshape(shape)
    }

    /// Zeros of `shape` with `values` written into the block selected by `ranges` (slice's backward).
    package static func embedding(_ values: Tensor, in shape: [Int], at ranges: [Range<Int>]) -> Tensor {
        var result = zeros(shape)
        result.assignSlice(ranges, values, selectionShape: ranges.map(\.count), op: "slice_backward")
        return result
    }

    /// Zeros of `shape` with block `k` of `values` (`blockLength` elements) added at flat
    /// block position `positions[k]`: a gather's backward, where repeated positions accumulate.
    package static func scatterAddBlocks(_ values: Tensor, in shape: [Int], positions: [Int], blockLength: Int) -> Tensor {
        let result = zeros(shape)
        for (k, p) in positions.enumerated() {
            Kernels.axpy(1, values.pointer + k * blockLength, result.pointer + p * blockLength, blockLength)
        }
        return result
    }

    /// Zeros of `shape` (a matrix) with `values[i]` written at row `i`, column `indices[i]`.
    package static func scatterColumns(_ values: Tensor, in shape: [Int], indices: [Int]) -> Tensor {
        let result = zeros(shape)
        let columns = shape[1]
        for (i, j) in indices.enumerated() { result.pointer[i * columns + j] = values.pointer[i] }
        return result
    }
}

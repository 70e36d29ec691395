// What Tensors offers the Autograd layer, and only it: the record of which op made a tensor
// from what (`Operation`, `Node`, `GradientRecord`), the switch that turns recording off
// (`GradMode`), and the backward computations its rules call, so that every hot loop stays in
// Tensors. Tensors knows *which* op produced a tensor and keeps its inputs; it knows nothing of
// derivatives: the rules all live together in Sources/Autograd/BackwardRules.swift.
//
// Client: Autograd. Nothing else may call these (Layers asks Autograd's `isGradEnabled`).

import Foundation

/// A differentiable operation, with the parameters its backward rule needs.
package enum Operation: Sendable {
    case add, sub, mul, div
    /// `scale * x + shift` (tensor-scalar +, -, *, /); only `scale` matters for the gradient.
    case scaleShift(scale: Float)
    /// `numerator / x`.
    case scalarDivide(numerator: Float)
    case neg, exp, log, sqrt, abs, sigmoid, relu, tanh, square
    case powScalar(exponent: Float)
    case pow
    case clamp(lower: Float, upper: Float)
    case maximum, minimum
    case maximumScalar(Float), minimumScalar(Float)
    /// `where(condition, a, b)`: inputs are condition, a, b.
    case select
    case sum(dim: Int?, keepDim: Bool)
    /// max or min over all elements (`dim == nil`) or one axis; the output is saved.
    case extreme(dim: Int?, keepDim: Bool)
    /// The core matrix product, after vectors have been promoted to matrices.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// `x • weightᵀ + bias` in one GEMM: inputs are x, weight and (optionally) bias.
    case linear
    /// 2-D convolution: inputs are x, weight and (optionally) bias. `gemmWeight` keeps the
    /// forward pass's weight matrix when it had to build one (taps left out, or the dense
    /// matrix of a convolution over small maps), for backward.
    case conv2d(stride: [Int], padding: [Int], gemmWeight: Tensor?)
    /// Batch normalisation with the statistics it used (and a fused ReLU after it when `relu`):
    /// inputs are x, weight and bias.
    case batchNorm(mean: Tensor, invStd: Tensor, training: Bool, relu: Bool)
    /// Max pooling, with the winning input pixel of each output.
    case maxPool(geometry: PoolGeometry, argmax: [Int32])
    case avgPool(geometry: PoolGeometry)
    case reshape
    case permute(axes: [Int])
    case expand
    case cat(dim: Int)
    case slice(ranges: [Range<Int>])
    /// Blocks of `blockLength` elements gathered from flat block positions (an index list
    /// or a mask); positions may repeat.
    case gatherBlocks(positions: [Int], blockLength: Int)
    /// `x[i, indices[i]]` for each row `i` of a matrix.
    case pickColumns(indices: [Int])
    /// Mean (or summed) cross-entropy of logits against class indices, fused with log-softmax.
    case crossEntropy(targets: [Int], mean: Bool)
    case logSoftmax(dim: Int)
    case softmax(dim: Int)
    /// A user's own differentiable op (`recordedCustom`, PyTorch's `autograd.Function`), with its
    /// backward closure; FastSwift's own ops each have a case above.
    case custom(name: String, backward: @Sendable (Tensor) -> [Tensor?])

    /// PyTorch's name for the backward node (`tensor(..., grad_fn=<AddBackward0>)`).
    package var name: String {
        switch self {
        case .add: return "AddBackward0"
        case .sub: return "SubBackward0"
        case .mul: return "MulBackward0"
        case .div: return "DivBackward0"
        case .scaleShift: return "AffineBackward0"
        case .scalarDivide: return "ReciprocalBackward0"
        case .neg: return "NegBackward0"
        case .exp: return "ExpBackward0"
        case .log: return "LogBackward0"
        case .sqrt: return "SqrtBackward0"
        case .abs: return "AbsBackward0"
        case .sigmoid: return "SigmoidBackward0"
        case .relu: return "ReluBackward0"
        case .tanh: return "TanhBackward0"
        case .square, .powScalar: return "PowBackward0"
        case .pow: return "PowBackward1"
        case .clamp: return "ClampBackward1"
        case .maximum, .maximumScalar: return "MaximumBackward0"
        case .minimum, .minimumScalar: return "MinimumBackward0"
        case .select: return "WhereBackward0"
        case .sum: return "SumBackward0"
        case .extreme: return "MaxBackward0"
        case .matmul: return "MmBackward0"
        case .linear: return "AddmmBackward0"
        case .conv2d: return "ConvolutionBackward0"
        case .batchNorm: return "NativeBatchNormBackward0"
        case .maxPool: return "MaxPool2DWithIndicesBackward0"
        case .avgPool: return "AvgPool2DBackward0"
        case .reshape: return "ViewBackward0"
        case .permute: return "PermuteBackward0"
        case .expand: return "ExpandBackward0"
        case .cat: return "CatBackward0"
        case .slice: return "SliceBackward0"
        case .gatherBlocks: return "IndexBackward0"
        case .pickColumns: return "GatherBackward0"
        case .crossEntropy: return "NllLossBackward0"
        case .logSoftmax: return "LogSoftmaxBackward0"
        case .softmax: return "SoftmaxBackward0"
        case .custom(let name, _): return name
        }
    }
}

/// The op that produced a tensor, its inputs, and its output (for rules that need it).
package final class Node: @unchecked Sendable {
    package let operation: Operation
    /// The inputs, in the op's order; released (emptied) once backward has passed through.
    package var inputs: [Tensor]
    /// The op's output value (without its record), for rules such as exp's and sigmoid's.
    package var output: Tensor?
    /// Set once backward has used and released this node.
    package var released = false

    init(operation: Operation, inputs: [Tensor], output: Tensor) {
        self.operation = operation
        self.inputs = inputs
        self.output = output
    }
}

/// Autograd's state for one tensor, shared by all copies of it.
package final class GradientRecord: @unchecked Sendable {
    /// True for parameters the user marked and for every result computed from them.
    package var requiresGrad: Bool
    /// The accumulated gradient (leaves only).
    package var grad: Tensor?
    /// The op that produced the tensor; nil for a leaf.
    package let node: Node?

    package init(requiresGrad: Bool, node: Node?) {
        self.requiresGrad = requiresGrad
        self.node = node
    }

    package var isLeaf: Bool { node == nil }
}

/// Whether ops are being recorded for autograd on this thread (off inside `noGrad { }`).
package enum GradMode {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// How many `noGrad` scopes this thread is inside.
    private static var depth: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// True unless the current thread is inside a `noGrad` scope.
    package static var isEnabled: Bool { depth == 0 }

    /// Runs `body` with recording off on this thread.
    package static func disabled<R>(_ body: () throws -> R) rethrows -> R {
        depth += 1
        defer { depth -= 1 }
        return try body()
    }

    /// Runs `body` with recording on on this thread, even inside `noGrad` (an inference plan's trace).
    package static func enabled<R>(_ body: () throws -> R) rethrows -> R {
        let saved = depth
        depth = 0
        defer { depth = saved }
        return try body()
    }
}

extension Tensor {
    /// Autograd's record of this tensor (nil for a plain tensor); shared by every copy of it.
    package var gradientRecord: GradientRecord? {
        get { record }
        set { record = newValue }
    }

    /// Records that `self` was produced by `operation` from `inputs`, when recording is on and
    /// any input requires gradients; otherwise returns `self` unchanged.
    @inline(__always)
    package func recorded(_ operation: @autoclosure () -> Operation, _ inputs: Tensor...) -> Tensor {
        recorded(operation(), inputs: inputs)
    }

    @inline(__always)
    package func recorded(_ operation: @autoclosure () -> Operation, inputs: [Tensor]) -> Tensor {
        guard inputs.contains(where: { $0.record?.requiresGrad == true }), GradMode.isEnabled else { return self }
        var result = self
        let node = Node(operation: operation(), inputs: inputs, output: self.detach())
        result.record = GradientRecord(requiresGrad: true, node: node)
        return result
    }
}

/// Where each output pixel of a pooling looks in its input plane, recorded with the op for its
/// backward (Autograd passes it on; only Tensors reads it).
package struct PoolGeometry: Sendable, Equatable {
    enum Windows: Sendable, Equatable {
        case fixed(kernel: [Int], stride: [Int], padding: [Int])
        case adaptive
    }
    let height: Int, width: Int, outH: Int, outW: Int
    let windows: Windows

    init(height: Int, width: Int, outH: Int, outW: Int, windows: Windows) {
        self.height = height; self.width = width; self.outH = outH; self.outW = outW; self.windows = windows
    }
}

// MARK: - Backward computations

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
    package static func sliceBackward(_ values: Tensor, in shape: [Int], at ranges: [Range<Int>]) -> Tensor {
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

    /// `softmax(logits) - onehot(targets)`, scaled by `scale`: cross-entropy's gradient.
    package static func crossEntropyBackward(logits: Tensor, targets: [Int], scale: Float) -> Tensor {
        let classes = logits.shape[1]
        let result = Tensor(uninitializedShape: logits.shape)
        Kernels.softmaxRows(logits.pointer, result.pointer, rows: targets.count, n: classes, log: false)
        for (i, t) in targets.enumerated() { result.pointer[i * classes + t] -= 1 }
        Kernels.scaleInPlace(result.pointer, count: result.count, by: scale)
        return result
    }

    /// Max pooling's gradient: each output's gradient goes to the input pixel that won.
    package static func maxPoolBackward(_ grad: Tensor, inputShape: [Int], geometry g: PoolGeometry, argmax: [Int32]) -> Tensor {
        let dx = zeros(inputShape)
        let outPlane = g.outH * g.outW, inPlane = g.height * g.width
        for o in 0..<grad.count { dx.pointer[(o / outPlane) * inPlane + Int(argmax[o])] += grad.pointer[o] }
        return dx
    }

    /// Average pooling's gradient.
    package static func avgPoolBackward(_ grad: Tensor, inputShape: [Int], geometry g: PoolGeometry) -> Tensor {
        let dx = zeros(inputShape)
        Kernels.avgPoolBackward(grad.pointer, planes: inputShape[0] * inputShape[1], g, dx.pointer)
        return dx
    }

    /// Convolution's gradients for its input, weight and bias (`gemmWeight`: the forward pass's
    /// gathered weight, when it pruned taps); each only when needed.
    package static func conv2dBackward(
        _ grad: Tensor, input: Tensor, weight: Tensor, stride: (Int, Int), padding: (Int, Int),
        gemmWeight saved: Tensor? = nil,
        needInput: Bool, needWeight: Bool, needBias: Bool
    ) -> (Tensor?, Tensor?, Tensor?) {
        convolutionBackward(
            grad, input: input, weight: weight, stride: stride, padding: padding, gemmWeight: saved, needInput: needInput,
            needWeight: needWeight, needBias: needBias)
    }

    /// Batch norm's gradients for its input (when `needInput`), weight and bias; with a fused
    /// ReLU, `reluOutput` is the op's output.
    package static func batchNormBackward(
        _ g: Tensor, input x: Tensor, weight: Tensor, mean: Tensor, invStd: Tensor,
        training: Bool, reluOutput: Tensor? = nil, needInput: Bool
    ) -> (Tensor?, Tensor, Tensor) {
        normalizationBackward(g, input: x, weight: weight, mean: mean, invStd: invStd, training: training, reluOutput: reluOutput, needInput: needInput)
    }
}

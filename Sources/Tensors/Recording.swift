import Foundation

// What the Tensors layer keeps for autograd: which op made a tensor and from what.
//
// Tensors knows *which* op produced a tensor (an `Operation`) and keeps its inputs; it knows
// nothing of derivatives. The Autograd layer reads these records in `backward()` and applies
// the backward rules, which all live together there (Sources/Autograd/BackwardRules.swift).

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
    /// forward pass's weight matrix when it had to be gathered (taps left out), for backward.
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
    /// True when the tensor takes part in autograd: a parameter marked with
    /// `requiresGrad = true`, or a result computed from one while recording.
    /// The same for every copy of one parameter (a leaf that has required gradients), nil for
    /// other tensors: tells parameters apart, as Python's `id(p)`.
    public var parameterIdentity: ObjectIdentifier? {
        guard let record = gradientRecord, record.isLeaf else { return nil }
        return ObjectIdentifier(record)
    }

    public var requiresGrad: Bool {
        get { gradientRecord?.requiresGrad ?? false }
        set {
            if let record = gradientRecord {
                guard record.isLeaf || newValue else {
                    fatalError("requiresGrad: only a leaf tensor's flag can be switched off; use detach()")
                }
                record.requiresGrad = newValue
            } else if newValue {
                gradientRecord = GradientRecord(requiresGrad: true, node: nil)
            }
        }
    }

    /// The same values, cut off from autograd: no gradient flows through the result.
    /// Shares the storage until either side is changed.
    public func detach() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A copy with its own storage, detached from autograd.
    public func clone() -> Tensor { Tensor(shape: shape, storage: storage.copy()) }

    /// Records that `self` was produced by `operation` from `inputs`, when recording is on and
    /// any input requires gradients; otherwise returns `self` unchanged.
    @inline(__always)
    package func recorded(_ operation: @autoclosure () -> Operation, _ inputs: Tensor...) -> Tensor {
        recorded(operation(), inputs: inputs)
    }

    @inline(__always)
    package func recorded(_ operation: @autoclosure () -> Operation, inputs: [Tensor]) -> Tensor {
        guard inputs.contains(where: { $0.gradientRecord?.requiresGrad == true }), GradMode.isEnabled else { return self }
        var result = self
        let node = Node(operation: operation(), inputs: inputs, output: self.detach())
        result.gradientRecord = GradientRecord(requiresGrad: true, node: node)
        return result
    }

    /// Checks an in-place change against autograd: a parameter may be changed in place only
    /// inside `noGrad { }` (the optimizer's step), and a tensor recorded in a graph not at all.
    /// Inside `noGrad`, a recorded result is detached first.
    mutating func prepareInPlace(_ op: String) {
        guard let record = gradientRecord else { return }
        if GradMode.isEnabled && record.requiresGrad {
            fatalError(
                record.isLeaf
                    ? "\(op): a tensor that requires grad is being changed in place; do it inside noGrad { }, as an optimizer step does"
                    : "\(op): a tensor recorded for backward is being changed in place; use the out-of-place op")
        }
        if !record.isLeaf { gradientRecord = nil }
    }
}

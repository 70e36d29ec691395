import Foundation

// A forward pass compiled for inference, below the layers: the graph Tensors records for
// autograd, read back as a program.
//
// Layers have one `forward`. To run a model fast in inference, its forward pass is traced once
// (run with the input marked as requiring gradients, so every op it applies records itself, as
// for backward) and the recorded graph is compiled into steps: a convolution with the batch
// norm, residual addition and ReLU that follow it becomes one step writing its output once, and
// maps stay channel-major (`ChannelMajorMaps`, the layout the convolution's GEMM reads and
// writes) from one convolution to the next. The values are those of the layers run one by one,
// to the bit: each step uses the arithmetic of the op it replaces.

/// A model's forward pass for inputs of one shape, compiled into fused channel-major steps
/// (`Module.inferencePlan(for:)`; models made of FastSwift's layers get one automatically when
/// they run in eval mode under `noGrad`). Calling it gives the model's output for a new input,
/// the same values to the bit as the layers give.
///
/// A plan follows the graph the trace recorded, as `torch.jit.trace` does: a forward pass whose
/// ops depend on the input's values (an `if` on `x.item()`, a mask from a comparison) is
/// compiled for the example's branch only. FastSwift's own layers never do that.
public final class InferencePlan: @unchecked Sendable {
    /// The input shape the plan was compiled for.
    public let inputShape: [Int]
    private let steps: [Step]
    private let slotCount: Int
    private let outputSlot: Int
    /// For each step, the slots whose last reader it is (freed after it).
    private let releases: [[Int]]

    /// Where a step reads a value: a slot (slot 0 is the plan's input), or a tensor captured by
    /// the trace (a parameter or a constant).
    enum Operand {
        case slot(Int)
        case constant(Tensor)
    }

    enum Step {
        /// A convolution, with the batch norm (or bias), residual and ReLU applied as it writes.
        case convolution(ConvolutionStep)
        /// An inference-mode batch norm on its own (`y·scale + shift`, then a ReLU).
        case affine(input: Int, scale: Tensor, shift: Tensor, relu: Bool, inPlace: Bool, output: Int)
        /// Max or average pooling over fixed or adaptive windows.
        case pool(input: Int, geometry: PoolGeometry, max: Bool, output: Int)
        /// Any other recorded op, run as the layers ran it.
        case replay(Tensors.Operation, inputs: [Operand], outputShape: [Int], output: Int)
    }

    /// A convolution step; its packed weight comes from the plan's `PackedWeightStore`.
    struct ConvolutionStep {
        let input: Int, output: Int
        let weight: Tensor, geometry: ConvGeometry
        let scale: Tensor?, shift: Tensor?
        let residual: Operand?, relu: Bool
        let packedWeights: PackedWeightStore

        var packedWeight: Tensor.InferenceWeight { packedWeights.packed(weight, geometry) }
    }

    /// A value between steps: an NCHW (or any other) tensor, or channel-major maps.
    enum Value {
        case tensor(Tensor)
        case maps(ChannelMajorMaps)

        var tensor: Tensor {
            switch self {
            case .tensor(let t): return t
            case .maps(let m): return m.tensor()
            }
        }

        var maps: ChannelMajorMaps {
            switch self {
            case .tensor(let t): return ChannelMajorMaps(t)
            case .maps(let m): return m
            }
        }
    }

    /// Why a forward pass could not be compiled (an op a plan cannot run, or nothing recorded).
    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    private init(inputShape: [Int], steps: [Step], slotCount: Int, outputSlot: Int) {
        self.inputShape = inputShape
        self.steps = steps
        self.slotCount = slotCount
        self.outputSlot = outputSlot
        var lastRead = [Int](repeating: -1, count: slotCount)
        for (i, step) in steps.enumerated() { for s in Self.reads(step) { lastRead[s] = i } }
        var releases = [[Int]](repeating: [], count: steps.count)
        for (slot, i) in lastRead.enumerated() where i >= 0 && slot != outputSlot { releases[i].append(slot) }
        self.releases = releases
    }

    /// The model's output for `x`, whose shape must be `inputShape`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard x.shape == inputShape else {
            fatalError("InferencePlan: compiled for inputs \(inputShape), got \(x.shape)")
        }
        return GradMode.disabled { run(x.detach()) }
    }

    private func run(_ x: Tensor) -> Tensor {
        var values = [Value?](repeating: nil, count: slotCount)
        values[0] = .tensor(x)
        func operand(_ o: Operand) -> Value {
            switch o {
            case .slot(let s): return values[s]!
            case .constant(let t): return .tensor(t)
            }
        }
        for (i, step) in steps.enumerated() {
            switch step {
            case .convolution(let c):
                let residual = c.residual.map { operand($0).maps }
                let result: ChannelMajorMaps
                switch values[c.input]! {
                case .maps(let maps):
                    result = maps.convolved(
                        weight: c.packedWeight, c.geometry, scale: c.scale, shift: c.shift, residual: residual, relu: c.relu)
                case .tensor(let t):
                    result = ChannelMajorMaps.convolved(
                        t, weight: c.packedWeight, c.geometry, scale: c.scale, shift: c.shift, residual: residual, relu: c.relu)
                }
                values[c.output] = .maps(result)
            case .affine(let input, let scale, let shift, let relu, let inPlace, let output):
                switch values[input]! {
                case .maps(let maps):
                    let target = inPlace ? maps : ChannelMajorMaps(maps.tensor())
                    target.applyEpilogue(scale: scale, shift: shift, residual: nil, relu: relu)
                    values[output] = .maps(target)
                case .tensor(let t):
                    values[output] = .tensor(Tensor.channelAffine(t, scale: scale, shift: shift, relu: relu))
                }
            case .pool(let input, let g, let max, let output):
                switch values[input]! {
                case .maps(let maps): values[output] = .maps(max ? maps.maxPooled(g) : maps.averagePooled(g))
                case .tensor(let t): values[output] = .tensor(Tensor.pooled(t, g, max: max))
                }
            case .replay(let operation, let inputs, let shape, let output):
                values[output] = .tensor(Self.replay(operation, inputs.map { operand($0).tensor }, outputShape: shape))
            }
            for slot in releases[i] { values[slot] = nil }
        }
        return values[outputSlot]!.tensor
    }

    /// The slots a step reads.
    private static func reads(_ step: Step) -> [Int] {
        func slots(_ operands: [Operand]) -> [Int] {
            operands.compactMap { if case .slot(let s) = $0 { return s } else { return nil } }
        }
        switch step {
        case .convolution(let c): return [c.input] + slots(c.residual.map { [$0] } ?? [])
        case .affine(let input, _, _, _, _, _), .pool(let input, _, _, _): return [input]
        case .replay(_, let inputs, _, _): return slots(inputs)
        }
    }

    /// Runs one recorded op on tensors, as the op itself runs (the same kernels, so the same bits).
    private static func replay(_ operation: Tensors.Operation, _ x: [Tensor], outputShape: [Int]) -> Tensor {
        switch operation {
        case .add: return x[0] + x[1]
        case .sub: return x[0] - x[1]
        case .mul: return x[0] * x[1]
        case .div: return x[0] / x[1]
        case .neg: return -x[0]
        case .exp: return x[0].exp()
        case .log: return x[0].log()
        case .sqrt: return x[0].sqrt()
        case .abs: return x[0].abs()
        case .sigmoid: return x[0].sigmoid()
        case .relu: return x[0].relu()
        case .tanh: return x[0].tanh()
        case .square: return x[0].square()
        case .reshape: return x[0].reshape(outputShape)
        case .permute(let axes): return x[0].permute(axes)
        case .cat(let dim): return Tensor.cat(x, dim: dim)
        case .linear: return Tensor.linear(x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil)
        case .softmax(let dim): return x[0].softmax(dim: dim)
        case .logSoftmax(let dim): return x[0].logSoftmax(dim: dim)
        default: fatalError("InferencePlan: \(operation.name) cannot be replayed (the compiler refuses it)")
        }
    }

    /// Whether `replay` runs this op.
    private static func replays(_ operation: Tensors.Operation) -> Bool {
        switch operation {
        case .add, .sub, .mul, .div, .neg, .exp, .log, .sqrt, .abs, .sigmoid, .relu, .tanh, .square, .reshape, .permute, .cat,
            .linear, .softmax, .logSoftmax:
            return true
        default:
            return false
        }
    }

    // MARK: - Compiling a recorded graph

    /// Compiles the graph that produced `output` from `input` (a tensor that required gradients).
    static func compile(output: Tensor, input: Tensor, packedWeights: PackedWeightStore) throws -> InferencePlan {
        guard let inputRecord = input.record, let outputNode = output.record?.node else {
            throw Unsupported(description: "the forward pass recorded no op on its input")
        }
        // The nodes in an order where each comes after its inputs (depth first, iteratively:
        // deep networks would overflow a recursion).
        var order: [Node] = [], index: [ObjectIdentifier: Int] = [:]
        var stack: [(Node, Bool)] = [(outputNode, false)]
        var seen: Set<ObjectIdentifier> = []
        while let (node, expanded) = stack.popLast() {
            let id = ObjectIdentifier(node)
            if expanded {
                index[id] = order.count
                order.append(node)
                continue
            }
            guard seen.insert(id).inserted else { continue }
            stack.append((node, true))
            for t in node.inputs.reversed() {
                if let child = t.record?.node, !seen.contains(ObjectIdentifier(child)) { stack.append((child, false)) }
            }
        }
        // What each node reads: the input (slot 0), another node's output (slot i + 1), or a
        // captured tensor.
        func operand(_ t: Tensor) -> Operand {
            if let record = t.record {
                if record === inputRecord { return .slot(0) }
                if let node = record.node, let i = index[ObjectIdentifier(node)] { return .slot(i + 1) }
            }
            return .constant(t)
        }
        let operands = order.map { $0.inputs.map(operand) }
        var consumers = [Int](repeating: 0, count: order.count + 1)
        for list in operands { for case .slot(let s) in list { consumers[s] += 1 } }
        let outputSlot = index[ObjectIdentifier(outputNode)]! + 1
        consumers[outputSlot] += 1
        // Nodes already part of a fused convolution's chain.
        var claimed = Set<Int>()
        /// The node that alone reads node `i`'s output, when exactly one does and no other
        /// chain has claimed it (a residual addition reads two convolutions' chains).
        func soleReader(of i: Int) -> Int? {
            guard consumers[i + 1] == 1 else { return nil }
            let reader = operands.indices.first { j in j > i && operands[j].contains { if case .slot(let s) = $0 { s == i + 1 } else { false } } }
            return reader.flatMap { claimed.contains($0) ? nil : $0 }
        }

        var steps: [Step] = []
        var absorbed = Set<Int>()
        // Fused convolutions are emitted where their chain ends.
        var chainEnds: [Int: ConvolutionStep] = [:]
        for (i, node) in order.enumerated() {
            guard case .conv2d(let stride, let padding, _) = node.operation else { continue }
            guard case .slot(let source) = operands[i][0] else {
                throw Unsupported(description: "a convolution of a constant")
            }
            let x = node.inputs[0], weight = node.inputs[1].detach(), bias = node.inputs.count > 2 ? node.inputs[2].detach() : nil
            let geometry = Tensor.convolutionGeometry(x, weight, stride: (stride[0], stride[1]), padding: (padding[0], padding[1]))
            // The chain this convolution heads: its batch norm (in eval mode, when it has no
            // bias: a bias would have to be folded into the shift, which rounds differently),
            // a residual addition, a ReLU; each the sole reader of the one before.
            var chain = [i], scale: Tensor? = nil, shift = bias, residual: Operand? = nil, relu = false
            if bias == nil, let j = soleReader(of: i), case .batchNorm(let mean, let invStd, false, let fusedReLU) = order[j].operation {
                (scale, shift) = Tensor.batchNormAffine(weight: order[j].inputs[1], bias: order[j].inputs[2], mean: mean, invStd: invStd)
                chain.append(j)
                relu = fusedReLU
            }
            if !relu, let j = soleReader(of: chain.last!), case .add = order[j].operation,
                order[j].inputs[0].shape == order[j].inputs[1].shape
            {
                residual = operands[j][0] == .slot(chain.last! + 1) ? operands[j][1] : operands[j][0]
                chain.append(j)
            }
            if !relu, let j = soleReader(of: chain.last!), case .relu = order[j].operation {
                relu = true
                chain.append(j)
            }
            let last = chain.last!
            claimed.formUnion(chain)
            absorbed.formUnion(chain.dropLast())
            chainEnds[last] = ConvolutionStep(
                input: source, output: last + 1, weight: weight, geometry: geometry, scale: scale, shift: shift, residual: residual, relu: relu,
                packedWeights: packedWeights)
        }
        for (i, node) in order.enumerated() where !absorbed.contains(i) {
            if let conv = chainEnds[i] {
                steps.append(.convolution(conv))
                continue
            }
            let inputs = operands[i]
            switch node.operation {
            case .batchNorm(let mean, let invStd, let training, let relu):
                guard !training, case .slot(let source) = inputs[0] else {
                    throw Unsupported(description: "a batch norm in training mode, or of a constant")
                }
                let (scale, shift) = Tensor.batchNormAffine(weight: node.inputs[1], bias: node.inputs[2], mean: mean, invStd: invStd)
                steps.append(.affine(input: source, scale: scale, shift: shift, relu: relu, inPlace: consumers[source] == 1 && source != 0, output: i + 1))
            case .maxPool(let g, _), .avgPool(let g):
                guard case .slot(let source) = inputs[0] else { throw Unsupported(description: "pooling of a constant") }
                let isMax: Bool
                if case .maxPool = node.operation { isMax = true } else { isMax = false }
                steps.append(.pool(input: source, geometry: g, max: isMax, output: i + 1))
            default:
                guard replays(node.operation) else {
                    throw Unsupported(description: "\(node.operation.name) is not an op an inference plan runs")
                }
                guard let output = node.output else { throw Unsupported(description: "a released node") }
                steps.append(.replay(node.operation, inputs: inputs, outputShape: output.shape, output: i + 1))
            }
        }
        return InferencePlan(inputShape: input.shape, steps: steps, slotCount: order.count + 1, outputSlot: outputSlot)
    }
}

extension InferencePlan.Operand: Equatable {
    static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.slot(let x), .slot(let y)): return x == y
        default: return false
        }
    }
}

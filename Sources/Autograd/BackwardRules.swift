import Tensors

// Every op's backward rule, in one place: given the gradient of an op's output, the gradient
// of each of its inputs (nil where no gradient flows). Each is reduced back to its input's
// shape where broadcasting stretched it.

/// The gradients of `node`'s inputs, in order, given `g`, the gradient of its output.
/// `needed[i]` is false for inputs that do not require gradients: the costly rules (products)
/// skip them, and the others' results are dropped by the caller.
func inputGradients(_ node: Node, outputGrad g: Tensor, needed: [Bool]) -> [Tensor?] {
    let x = node.inputs
    let y = node.output!
    switch node.operation {
    case .add:
        return [g.unbroadcast(to: x[0].shape), g.unbroadcast(to: x[1].shape)]
    case .sub:
        return [g.unbroadcast(to: x[0].shape), (-g).unbroadcast(to: x[1].shape)]
    case .mul:
        return [needed[0] ? (g * x[1]).unbroadcast(to: x[0].shape) : nil, needed[1] ? (g * x[0]).unbroadcast(to: x[1].shape) : nil]
    case .div:
        return [(g / x[1]).unbroadcast(to: x[0].shape), (-(g * y) / x[1]).unbroadcast(to: x[1].shape)]
    case .scaleShift(let scale):
        return [scale == 1 ? g : g * scale]
    case .scalarDivide:
        // y = n / x  =>  dy/dx = -n / x² = -y / x
        return [-(g * y) / x[0]]
    case .neg:
        return [-g]
    case .exp:
        return [g * y]
    case .log:
        return [g / x[0]]
    case .sqrt:
        return [g * 0.5 / y]
    case .abs:
        return [g * x[0].sign()]
    case .sigmoid:
        return [Tensor.sigmoidBackward(g, output: y)]
    case .relu:
        return [Tensor.reluBackward(g, input: x[0])]
    case .tanh:
        return [Tensor.tanhBackward(g, output: y)]
    case .square:
        return [g * x[0] * 2]
    case .powScalar(let p):
        return [g * x[0].pow(p - 1) * p]
    case .pow:
        // d(a^b)/da = b a^(b-1);  d(a^b)/db = a^b log a
        return [
            (g * x[1] * x[0].pow(x[1] - 1)).unbroadcast(to: x[0].shape),
            (g * y * x[0].log()).unbroadcast(to: x[1].shape),
        ]
    case .clamp(let lower, let upper):
        return [Tensor.clampBackward(g, input: x[0], lower: lower, upper: upper)]
    case .maximum, .minimum:
        let largest: Bool
        if case .maximum = node.operation { largest = true } else { largest = false }
        let share = Tensor.winnerShare(x[0], x[1], largest: largest)
        return [(g * share).unbroadcast(to: x[0].shape), (g * (1 - share)).unbroadcast(to: x[1].shape)]
    case .maximumScalar(let s):
        return [g * Tensor.winnerShare(x[0], Tensor(s), largest: true)]
    case .minimumScalar(let s):
        return [g * Tensor.winnerShare(x[0], Tensor(s), largest: false)]
    case .select:
        let condition = x[0].expand(to: g.shape)
        return [
            nil, Tensor.where(condition, g, 0).unbroadcast(to: x[1].shape),
            Tensor.where(condition, 0, g).unbroadcast(to: x[2].shape),
        ]
    case .sum(let dim, let keepDim):
        return [expandReduced(g, dim: dim, keepDim: keepDim, to: x[0])]
    case .extreme(let dim, let keepDim):
        // Split evenly between the positions that reached the extreme (PyTorch's amax/amin rule).
        let reached = x[0] .== expandReduced(y, dim: dim, keepDim: keepDim, to: x[0])
        let ties = dim.map { reached.sum(dim: $0, keepDim: true) } ?? reached.sum()
        return [reached * expandReduced(g, dim: dim, keepDim: keepDim, to: x[0]) / ties]
    case .matmul(let tA, let tB):
        return matmulGradients(g, a: x[0], b: x[1], transposeA: tA, transposeB: tB, needed: needed)
    case .linear:
        // y = x Wᵀ + b:  dx = g W,  dW = gᵀ x (over all rows),  db = Σ rows of g
        let outFeatures = g.shape[g.rank - 1], inFeatures = x[1].shape[1]
        let rows = g.reshape([-1, outFeatures]), flatX = x[0].reshape([-1, inFeatures])
        let dx = needed[0] ? rows.matmul(x[1], transposeSelf: false, transposeOther: false).reshape(x[0].shape) : nil
        let dw = needed[1] ? rows.matmul(flatX, transposeSelf: true, transposeOther: false) : nil
        return x.count == 3 ? [dx, dw, needed[2] ? rows.sum(dim: 0) : nil] : [dx, dw]
    case .reshape:
        return [g.reshape(x[0].shape)]
    case .permute(let axes):
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return [g.permute(inverse)]
    case .expand:
        return [g.unbroadcast(to: x[0].shape)]
    case .cat(let dim):
        return g.split(sizes: x.map { $0.shape[dim] }, dim: dim)
    case .slice(let ranges):
        return [Tensor.sliceBackward(g, in: x[0].shape, at: ranges)]
    case .gatherBlocks(let positions, let length):
        return [Tensor.scatterAddBlocks(g, in: x[0].shape, positions: positions, blockLength: length)]
    case .conv2d(let stride, let padding, let gemmWeight):
        let (dx, dw, db) = Tensor.conv2dBackward(
            g, input: x[0], weight: x[1], stride: (stride[0], stride[1]),
            padding: (padding[0], padding[1]), gemmWeight: gemmWeight, needInput: needed[0],
            needWeight: needed[1], needBias: x.count == 3 && needed[2])
        return x.count == 3 ? [dx, dw, db] : [dx, dw]
    case .batchNorm(let mean, let invStd, let training, let relu):
        let (dx, dw, db) = Tensor.batchNormBackward(
            g, input: x[0], weight: x[1], mean: mean, invStd: invStd,
            training: training, reluOutput: relu ? y : nil, needInput: needed[0])
        return [dx, dw, db]
    case .maxPool(let geometry, let argmax):
        return [Tensor.maxPoolBackward(g, inputShape: x[0].shape, geometry: geometry, argmax: argmax)]
    case .avgPool(let geometry):
        return [Tensor.avgPoolBackward(g, inputShape: x[0].shape, geometry: geometry)]
    case .pickColumns(let indices):
        return [Tensor.scatterColumns(g, in: x[0].shape, indices: indices)]
    case .crossEntropy(let targets, let mean):
        let scale = g.item() / (mean ? Float(Swift.max(targets.count, 1)) : 1)
        return [Tensor.crossEntropyBackward(logits: x[0], targets: targets, scale: scale)]
    case .logSoftmax(let dim):
        // dx = g - softmax(x) * sum(g)
        return [g - y.exp() * g.sum(dim: dim, keepDim: true)]
    case .softmax(let dim):
        // dx = y * (g - sum(g * y))
        return [y * (g - (g * y).sum(dim: dim, keepDim: true))]
    case .custom(_, let backward):
        return backward(g)
    }
}

/// A gradient of a reduction's output, reshaped and broadcast back to the input's shape.
private func expandReduced(_ g: Tensor, dim: Int?, keepDim: Bool, to input: Tensor) -> Tensor {
    guard let dim else { return g.reshape(input.shape.map { _ in 1 }).expand(to: input.shape) }
    let axis = dim < 0 ? dim + input.rank : dim
    return (keepDim ? g : g.unsqueeze(axis)).expand(to: input.shape)
}

/// Gradients of `C = op(A) • op(B)` (batched, with broadcast batch axes), each computed by the
/// GEMM with transposition flags, so no operand is transposed by a copy.
private func matmulGradients(
    _ g: Tensor, a: Tensor, b: Tensor, transposeA tA: Bool, transposeB tB: Bool,
    needed: [Bool]
) -> [Tensor?] {
    // dop(A) = G • op(B)ᵀ and dop(B) = op(A)ᵀ • G, transposed back where A or B was.
    if a.rank > 2 && b.rank == 2 && !tA {
        // A batch times one matrix: fold the batch into rows for single GEMMs.
        let k = a.shape[a.rank - 1]
        let rows = g.reshape([-1, g.shape[g.rank - 1]])
        let da = needed[0] ? rows.matmul(b, transposeSelf: false, transposeOther: !tB).reshape(a.shape) : nil
        let flatA = a.reshape([-1, k])
        let db =
            !needed[1]
            ? nil
            : tB
                ? rows.matmul(flatA, transposeSelf: true, transposeOther: false)
                : flatA.matmul(rows, transposeSelf: true, transposeOther: false)
        return [da, db]
    }
    let da = !needed[0] ? nil : tA ? b.matmul(g, transposeSelf: tB, transposeOther: true) : g.matmul(b, transposeSelf: false, transposeOther: !tB)
    let db = !needed[1] ? nil : tB ? g.matmul(a, transposeSelf: true, transposeOther: tA) : a.matmul(g, transposeSelf: !tA, transposeOther: false)
    return [da?.unbroadcast(to: a.shape), db?.unbroadcast(to: b.shape)]
}

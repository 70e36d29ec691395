import Autograd
import Foundation
import Tensors

/// The hidden and cell states of one LSTM layer: `[batch, hidden]` each.
public struct LSTMState: Sendable {
    /// The hidden state and the cell state.
    public var h: Tensor, c: Tensor

    /// A state from its hidden and cell parts.
    public init(h: Tensor, c: Tensor) {
        self.h = h
        self.c = c
    }

    /// Zeros for `batch` rows of `hidden` features.
    public static func zeros(batch: Int, hidden: Int) -> LSTMState { LSTMState(h: .zeros([batch, hidden]), c: .zeros([batch, hidden])) }
}

/// One LSTM layer over a batch-first sequence `x` `[B, T, I]` from `state`, recorded for
/// autograd: the output `[B, T, H]` and the state after the last step (detached: gradients do
/// not flow back into a carried state, as fastai detaches it between batches). The weights are
/// PyTorch's: `weightIH` `[4H, I]`, `weightHH` `[4H, H]`, biases `[4H]`, gates in the order
/// input, forget, cell, output.
public func lstmLayer(
    _ x: Tensor, state: LSTMState, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor
) -> (output: Tensor, state: LSTMState) {
    let (wIH, wHH) = (weightIH.detach(), weightHH.detach())
    let trace = noGrad {
        Tensor.lstmForward(
            input: x.detach(), h0: state.h.detach(), c0: state.c.detach(), weightIH: wIH, weightHH: wHH, bias: biasIH + biasHH)
    }
    let output = trace.output.recordedCustom(name: "LSTMBackward", inputs: [x, weightIH, weightHH, biasIH, biasHH]) { g in
        let grads = Tensor.lstmBackward(trace, outputGradient: g, weightIH: wIH, weightHH: wHH)
        return [grads.input, grads.weightIH, grads.weightHH, grads.bias, grads.bias]
    }
    let (h, c) = trace.finalState
    return (output, LSTMState(h: h, c: c))
}

/// A stack of LSTM layers (PyTorch's `nn.LSTM(inputSize, hiddenSize, layerCount, batch_first:)`),
/// each over the whole sequence at once (one GEMM for the inputs, one per step for the state).
/// Parameters are PyTorch's, by PyTorch's names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
/// `bias_hh_l0`, then `..._l1`), initialised uniform in ±1/√hiddenSize as PyTorch does.
///
///     let lstm = LSTM(400, 1152, layerCount: 2)
///     let (y, state) = lstm(x, state: nil)       // x [B, T, 400] → y [B, T, 1152]
///     let (y2, _) = lstm(next, state: state)      // carried on
public final class LSTM: Module {
    /// The input features, the hidden size and the number of stacked layers.
    public let inputSize: Int, hiddenSize: Int, layerCount: Int
    /// Whether inputs and outputs are `[batch, steps, features]` (else `[steps, batch, features]`).
    public let batchFirst: Bool
    /// Per layer: `[4H, in]`, `[4H, H]`, `[4H]`, `[4H]`.
    public var weightsIH: [Tensor], weightsHH: [Tensor], biasesIH: [Tensor], biasesHH: [Tensor]
    /// True when a `WeightDropout` owns the hidden-to-hidden weights (it passes them in).
    var hiddenWeightsAreExternal = false

    /// A stack of `layerCount` LSTM layers from `inputSize` features to `hiddenSize`.
    public init(_ inputSize: Int, _ hiddenSize: Int, layerCount: Int = 1, batchFirst: Bool = true) {
        precondition(inputSize > 0 && hiddenSize > 0 && layerCount > 0, "LSTM: sizes must be positive")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.batchFirst = batchFirst
        let bound = 1 / Float(hiddenSize).squareRoot()
        func parameter(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, -bound, bound).requiringGrad() }
        weightsIH = (0..<layerCount).map { parameter([4 * hiddenSize, $0 == 0 ? inputSize : hiddenSize]) }
        weightsHH = (0..<layerCount).map { _ in parameter([4 * hiddenSize, hiddenSize]) }
        biasesIH = (0..<layerCount).map { _ in parameter([4 * hiddenSize]) }
        biasesHH = (0..<layerCount).map { _ in parameter([4 * hiddenSize]) }
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] {
        var result: [(name: String, tensor: Tensor)] = []
        for l in 0..<layerCount {
            result.append(("weight_ih_l\(l)", weightsIH[l]))
            if !hiddenWeightsAreExternal { result.append(("weight_hh_l\(l)", weightsHH[l])) }
            result.append(("bias_ih_l\(l)", biasesIH[l]))
            result.append(("bias_hh_l\(l)", biasesHH[l]))
        }
        return result
    }

    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }

    /// The sequence through every layer from `state` (zeros when nil), with the state each
    /// layer ends in. `hiddenWeights` replaces the hidden-to-hidden weights (WeightDropout's).
    public func callAsFunction(_ input: Tensor, state: [LSTMState]?, hiddenWeights: [Tensor]? = nil) -> (output: Tensor, state: [LSTMState]) {
        guard input.rank == 3, input.shape[2] == inputSize else {
            fatalError("LSTM(\(inputSize), \(hiddenSize)): expected input [batch, steps, \(inputSize)], got \(input.shape)")
        }
        var x = batchFirst ? input : input.permute([1, 0, 2])
        let batch = x.shape[0]
        var states: [LSTMState] = []
        for l in 0..<layerCount {
            let start = state?[l] ?? .zeros(batch: batch, hidden: hiddenSize)
            let (y, end) = lstmLayer(
                x, state: start, weightIH: weightsIH[l], weightHH: hiddenWeights?[l] ?? weightsHH[l], biasIH: biasesIH[l], biasHH: biasesHH[l])
            x = y
            states.append(end)
        }
        return (batchFirst ? x : x.permute([1, 0, 2]), states)
    }

    /// The outputs from a zero state (PyTorch's `lstm(x)[0]`).
    public override func forward(_ input: Tensor) -> Tensor { self(input, state: nil).output }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 3, input[2] == inputSize else {
            throw LayerShapeError(self, "expected [\(batchFirst ? "batch, steps" : "steps, batch"), \(inputSize)], got \(input)")
        }
        return [input[0], input[1], hiddenSize]
    }

    public override var extraDescription: String { "\(inputSize), \(hiddenSize)" + (layerCount > 1 ? ", layers=\(layerCount)" : "") }
}

/// Dropout with one mask per sequence (fastai's `RNNDropout`): on `[B, T, C]` the same features
/// are dropped at every step of a row, scaled by 1/(1-p); nothing in evaluation mode.
public final class RNNDropout: Module {
    /// The probability of dropping a feature.
    public let p: Float

    /// Dropout with probability `p`.
    public init(_ p: Float = 0.5) {
        precondition(p >= 0 && p < 1, "RNNDropout: p must be in 0..<1, got \(p)")
        self.p = p
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0, input.rank >= 2 else { return input }
        var maskShape = input.shape
        maskShape[1] = 1
        return input * ((Tensor.rand(maskShape) .>= p) * (1 / (1 - p)))
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? { input }
    public override var extraDescription: String { "p=\(p)" }
}

/// Drops whole rows of an embedding's table in training (fastai's `EmbeddingDropout`): a word
/// is dropped everywhere in the batch, the others scaled by 1/(1-p). Input: indices of any
/// shape; output `input.shape + [dimension]`. Its state dict holds the wrapped embedding as `emb`.
public final class EmbeddingDropout: Module {
    public let emb: Embedding
    public let p: Float

    public init(_ emb: Embedding, p: Float) {
        precondition(p >= 0 && p < 1, "EmbeddingDropout: p must be in 0..<1, got \(p)")
        self.emb = emb
        self.p = p
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let indices = input.indices()
        if let bad = indices.first(where: { $0 < 0 || $0 >= emb.count }) {
            fatalError("EmbeddingDropout: index \(bad) is out of range 0..<\(emb.count)")
        }
        guard isTraining, p > 0 else { return emb.weight[indices].reshape(input.shape + [emb.dimension]) }
        // Only the rows used need their mask entries: the mask of the whole table, gathered.
        let mask = (Tensor.rand([emb.count, 1]) .>= p) * (1 / (1 - p))
        return (emb.weight[indices] * mask[indices]).reshape(input.shape + [emb.dimension])
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? { input + [emb.dimension] }
    public override var extraDescription: String { "p=\(p)" }
}

/// Drops hidden-to-hidden weights of an LSTM in training (fastai's `WeightDropout`, DropConnect):
/// it owns the raw weights (`weight_hh_l0_raw`) and passes the LSTM a dropped copy on every call
/// (the raw weights themselves in evaluation mode). State dict names are fastai's
/// (`weight_hh_l0_raw`, `module.weight_ih_l0`, ...).
public final class WeightDropout: Module {
    public let module: LSTM
    public let p: Float
    /// The raw hidden-to-hidden weights, one per layer of `module`.
    public var rawWeights: [Tensor]

    public init(_ module: LSTM, p: Float) {
        precondition(p >= 0 && p < 1, "WeightDropout: p must be in 0..<1, got \(p)")
        self.module = module
        self.p = p
        rawWeights = module.weightsHH
        module.hiddenWeightsAreExternal = true
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] {
        rawWeights.enumerated().map { ("weight_hh_l\($0.offset)_raw", $0.element) }
    }

    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }
    public override var children: [(name: String, module: Module)] { [("module", module)] }

    /// The wrapped LSTM over `input` from `state`, with dropped hidden weights in training.
    public func callAsFunction(_ input: Tensor, state: [LSTMState]?) -> (output: Tensor, state: [LSTMState]) {
        let weights =
            isTraining && p > 0 ? rawWeights.map { $0 * ((Tensor.rand($0.shape) .>= p) * (1 / (1 - p))) } : rawWeights
        return module(input, state: state, hiddenWeights: weights)
    }

    public override func forward(_ input: Tensor) -> Tensor { self(input, state: nil).output }
    public override func outputShape(for input: [Int]) throws -> [Int]? { try module.outputShape(for: input) }
    public override var extraDescription: String { "p=\(p)" }
}

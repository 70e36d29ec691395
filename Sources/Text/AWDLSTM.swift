import Autograd
import Foundation
import Layers
import Tensors

// fastai's AWD-LSTM (Merity et al., "Regularizing and Optimizing LSTM Language Models") and the
// heads that make it a language model or a classifier, with fastai's module names, so that a
// fastai state dict loads key for key.

/// A module that carries state between calls and can forget it (fastai's `reset`).
public protocol Resettable: AnyObject {
    /// Forgets the carried state (the next call starts from zeros).
    func reset()
}

/// A head that keeps its input for the RNN regularizer: the encoder's last outputs before
/// (`rawOutput`) and after (`output`) the head's dropout, `[B, T, H]`.
public protocol RNNOutputs: AnyObject {
    var rawOutput: Tensor? { get }
    var output: Tensor? { get }
}

/// AWD-LSTM's sizes and dropouts (fastai's `awd_lstm_lm_config` and `awd_lstm_clas_config`).
public struct AWDLSTMConfig: Sendable, Equatable, Codable {
    /// The embedding size (also the last LSTM layer's), the other layers' hidden size, the number of layers, `xxpad`'s index.
    public var embeddingSize = 400, hiddenSize = 1152, layerCount = 3, padToken = 1
    /// Dropout between the LSTM layers, on the embeddings' output, of whole words, and of
    /// hidden-to-hidden weights.
    public var hiddenP: Float, inputP: Float, embedP: Float, weightP: Float
    /// Dropout before the head: the decoder (language model) or the classifier.
    public var outputP: Float

    /// A configuration; fastai's are `.languageModel` and `.classifier`.
    public init(
        embeddingSize: Int = 400, hiddenSize: Int = 1152, layerCount: Int = 3, padToken: Int = 1, hiddenP: Float, inputP: Float,
        embedP: Float, weightP: Float, outputP: Float
    ) {
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.padToken = padToken
        self.hiddenP = hiddenP
        self.inputP = inputP
        self.embedP = embedP
        self.weightP = weightP
        self.outputP = outputP
    }

    /// fastai's language-model configuration.
    public static let languageModel = AWDLSTMConfig(hiddenP: 0.15, inputP: 0.25, embedP: 0.02, weightP: 0.2, outputP: 0.1)
    /// fastai's classifier configuration.
    public static let classifier = AWDLSTMConfig(hiddenP: 0.3, inputP: 0.4, embedP: 0.05, weightP: 0.5, outputP: 0.4)

    /// Throws unless the sizes are positive and every dropout probability is in 0..<1 (a large
    /// `dropMult` can push one to 1 or beyond).
    public func check() throws {
        guard embeddingSize > 0, hiddenSize > 0, layerCount > 0 else {
            throw DataError("AWDLSTMConfig", "sizes must be positive: embedding \(embeddingSize), hidden \(hiddenSize), layers \(layerCount)")
        }
        for (name, p) in [("hiddenP", hiddenP), ("inputP", inputP), ("embedP", embedP), ("weightP", weightP), ("outputP", outputP)]
        where !(p >= 0 && p < 1) {
            throw DataError("AWDLSTMConfig", "\(name) is \(p) after dropMult; dropout probabilities must be in 0..<1 (use a smaller dropMult)")
        }
    }

    /// Every dropout probability times `factor` (fastai's `drop_mult`).
    public func scaled(by factor: Float) -> AWDLSTMConfig {
        var c = self
        c.hiddenP *= factor
        c.inputP *= factor
        c.embedP *= factor
        c.weightP *= factor
        c.outputP *= factor
        return c
    }
}

/// fastai's `AWD_LSTM`: token indices `[B, T]` → the last layer's outputs `[B, T, embeddingSize]`.
/// An embedding (uniform ±0.1) with whole-word dropout, dropout on its output, then
/// `layerCount` single-layer LSTMs (embedding → hidden → ... → embedding) with DropConnect on
/// their hidden weights and dropout between them. The state of every layer is carried from
/// one call to the next (a language model reads its streams on), detached, until `reset()`;
/// a call with another batch size keeps the first rows' state and starts new rows at zero.
public final class AWDLSTM: Module, Resettable {
    /// The sizes and dropouts (already scaled by `dropMult`).
    public let config: AWDLSTMConfig
    /// The token embedding (`encoder`), `[vocab, embeddingSize]`.
    public let encoder: Embedding
    /// Whole-word dropout over `encoder` (`encoder_dp`).
    public let encoderDropout: EmbeddingDropout
    /// The LSTM layers, each with DropConnect on its hidden weights (`rnns.N`).
    public let rnns: [WeightDropout]
    /// Dropout on the embeddings' output (`input_dp`).
    public let inputDropout: RNNDropout
    /// Dropout after each layer but the last (`hidden_dps.N`).
    public let hiddenDropouts: [RNNDropout]
    /// The carried state, per layer (nil: zeros).
    public private(set) var hidden: [LSTMState]?

    /// An AWD-LSTM over `vocabSize` tokens.
    public init(vocabSize: Int, config: AWDLSTMConfig) {
        self.config = config
        let embedding = Embedding(vocabSize, config.embeddingSize)
        embedding.weight.overwrite(with: Tensor.uniform([vocabSize, config.embeddingSize], -0.1, 0.1))
        encoder = embedding
        encoderDropout = EmbeddingDropout(embedding, p: config.embedP)
        rnns = (0..<config.layerCount).map { l in
            let inputs = l == 0 ? config.embeddingSize : config.hiddenSize
            let outputs = l == config.layerCount - 1 ? config.embeddingSize : config.hiddenSize
            return WeightDropout(LSTM(inputs, outputs), p: config.weightP)
        }
        inputDropout = RNNDropout(config.inputP)
        hiddenDropouts = (0..<config.layerCount).map { _ in RNNDropout(config.hiddenP) }
    }

    public override var children: [(name: String, module: Module)] {
        [("encoder", encoder), ("encoder_dp", encoderDropout)] + rnns.enumerated().map { ("rnns.\($0.offset)", $0.element) }
            + [("input_dp", inputDropout)] + hiddenDropouts.enumerated().map { ("hidden_dps.\($0.offset)", $0.element) }
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] { [] }
    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }

    /// Forgets the carried state.
    public func reset() { hidden = nil }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2, "AWDLSTM: expected token indices [batch, steps], got \(input.shape)")
        let batch = input.shape[0]
        var output = inputDropout(encoderDropout(input))
        var states: [LSTMState] = []
        for (l, rnn) in rnns.enumerated() {
            let (y, state) = rnn(output, state: hidden.map { [Self.resized($0[l], to: batch)] })
            states.append(state[0])
            output = l == rnns.count - 1 ? y : hiddenDropouts[l](y)
        }
        hidden = states
        return output
    }

    /// A state for `batch` rows: the first rows of a larger one, or padded with zeros.
    static func resized(_ state: LSTMState, to batch: Int) -> LSTMState {
        let rows = state.h.shape[0], width = state.h.shape[1]
        if rows == batch { return state }
        if rows > batch {
            return LSTMState(h: state.h.narrow(dim: 0, start: 0, length: batch), c: state.c.narrow(dim: 0, start: 0, length: batch))
        }
        let zeros = Tensor.zeros([batch - rows, width])
        return LSTMState(h: Tensor.cat([state.h, zeros]), c: Tensor.cat([state.c, zeros]))
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 2 else { throw LayerShapeError(self, "expected token indices [batch, steps], got \(input)") }
        return input + [config.embeddingSize]
    }

    public override var extraDescription: String {
        "vocab \(encoder.count), \(config.embeddingSize)-\(config.hiddenSize)x\(config.layerCount)"
    }
}

/// fastai's `LinearDecoder`: dropout (one mask per sequence), then a linear layer to the
/// vocabulary whose weight is the embedding's (tied) and whose bias starts at zero: `[B, T, E]`
/// → `[B, T, vocab]`.
public final class LinearDecoder: Module, RNNOutputs {
    /// The linear layer to the vocabulary, its weight the embedding's.
    public let decoder: Linear
    /// Dropout on the encoder's outputs (`output_dp`).
    public let outputDropout: RNNDropout
    public private(set) var rawOutput: Tensor?
    public private(set) var output: Tensor?

    /// - Parameter tiedTo: the embedding whose weight the decoder shares (fastai's `tie_encoder`).
    public init(vocabSize: Int, hiddenSize: Int, outputP: Float, tiedTo embedding: Embedding?, bias: Bool = true) {
        let linear = Linear(hiddenSize, vocabSize, bias: bias)
        linear.weight.overwrite(with: Tensor.uniform([vocabSize, hiddenSize], -0.1, 0.1))
        linear.bias?.overwrite(with: Tensor.zeros([vocabSize]))
        if let embedding { linear.weight = embedding.weight }
        decoder = linear
        outputDropout = RNNDropout(outputP)
    }

    public override var children: [(name: String, module: Module)] { [("decoder", decoder), ("output_dp", outputDropout)] }
    public override var ownParameters: [(name: String, tensor: Tensor)] { [] }
    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }

    public override func forward(_ input: Tensor) -> Tensor {
        let dropped = outputDropout(input)
        rawOutput = input
        output = dropped
        let (b, t, h) = (dropped.shape[0], dropped.shape[1], dropped.shape[2])
        return decoder(dropped.reshape([b * t, h])).reshape([b, t, decoder.outFeatures])
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 3 else { throw LayerShapeError(self, "expected [batch, steps, features], got \(input)") }
        return [input[0], input[1], decoder.outFeatures]
    }
}

/// fastai's `SequentialRNN`: layers in order whose `reset()` reaches every layer that carries state.
/// State dict names are the layers' positions (`0.encoder.weight`, `1.decoder.bias`).
public final class SequentialRNN: Module, Resettable {
    /// The layers, in order.
    public let layers: [Module]

    /// The layers in order.
    public init(_ layers: [Module]) { self.layers = layers }

    public override var children: [(name: String, module: Module)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }
    public override var ownParameters: [(name: String, tensor: Tensor)] { [] }
    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }

    /// Resets every layer that carries state.
    public func reset() {
        for module in allModules.dropFirst() { (module as? Resettable)?.reset() }
    }

    public override func forward(_ input: Tensor) -> Tensor { layers.reduce(input) { $1($0) } }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        var shape: [Int]? = input
        for (i, layer) in layers.enumerated() { shape = try LayerShapeError.checking("\(i)", layer, shape) }
        return shape
    }
}

/// fastai's `SentenceEncoder`: a classifier's encoder over whole documents `[B, L]` (padded at
/// the front by whole `bptt` chunks, as the loaders pad them), read `bptt` tokens at a time with
/// the state carried (reset first), only the rows with text in a chunk passed on; the outputs of
/// the last `maxLen` tokens are kept. Output: `[B, L', H + 1]`, the outputs with, as a last
/// feature, 1 where the token was padding (fastai returns the mask beside the outputs).
public final class SentenceEncoder: Module, Resettable {
    /// The AWD-LSTM read chunk by chunk.
    public let module: AWDLSTM
    /// Tokens per chunk, `xxpad`'s index, and how many final tokens' outputs are kept (all when nil).
    public let bptt: Int, padIndex: Int, maxLen: Int?

    /// An encoder reading `module` `bptt` tokens at a time.
    public init(bptt: Int, module: AWDLSTM, padIndex: Int = 1, maxLen: Int? = nil) {
        self.bptt = bptt
        self.module = module
        self.padIndex = padIndex
        self.maxLen = maxLen
    }

    public override var children: [(name: String, module: Module)] { [("module", module)] }
    public override var ownParameters: [(name: String, tensor: Tensor)] { [] }
    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }

    /// Forgets the AWD-LSTM's state.
    public func reset() { module.reset() }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2, "SentenceEncoder: expected token indices [batch, length], got \(input.shape)")
        let (batch, length) = (input.shape[0], input.shape[1])
        reset()
        let tokens = input.scalars
        let pad = Float(padIndex)
        var outputs: [Tensor] = [], masks: [Tensor] = []
        for start in stride(from: 0, to: length, by: bptt) {
            let width = min(bptt, length - start)
            // Rows are longest first, so the rows with text at this chunk's start come first.
            let real = (0..<batch).filter { tokens[$0 * length + start] != pad }
            let rows = real == Array(0..<real.count) ? real.count : batch
            guard rows > 0 else { continue }
            let chunk = input.narrow(dim: 0, start: 0, length: rows).narrow(dim: 1, start: start, length: width)
            let output = module(chunk)
            if maxLen.map({ length - start <= $0 }) ?? true {
                let padded = rows == batch ? output : Tensor.cat([output, Tensor.zeros([batch - rows, width, output.shape[2]])])
                outputs.append(padded)
                var mask = [Float](repeating: 0, count: batch * width)
                for b in 0..<batch { for t in 0..<width where tokens[b * length + start + t] == pad { mask[b * width + t] = 1 } }
                masks.append(Tensor(shape: [batch, width, 1], scalars: mask))
            }
        }
        if outputs.isEmpty { return Tensor.zeros([batch, 0, module.config.embeddingSize + 1]) }
        return Tensor.cat([Tensor.cat(outputs, dim: 1), Tensor.cat(masks, dim: 1)], dim: 2)
    }
}

/// fastai's `PoolingLinearClassifier`: from the encoder's outputs and padding mask
/// (`SentenceEncoder`'s `[B, L, H + 1]`), the concatenation of the last real token's output, the
/// maximum and the mean over the real tokens (`masked_concat_pool`, `[B, 3H]`), then fastai's
/// `LinBnDrop` blocks (batch norm, dropout, linear without bias, ReLU between): `[B, classes]`.
public final class PoolingLinearClassifier: Module, RNNOutputs {
    /// fastai's `LinBnDrop` blocks.
    public let layers: Sequential
    /// The chunk length of the encoder (the last chunk's trailing padding is skipped to find the last token).
    public let bptt: Int
    public private(set) var rawOutput: Tensor?
    public private(set) var output: Tensor?

    /// - Parameters:
    ///   - dims: the sizes, `3H` first and the classes last (fastai's `[1200, 50, n]`).
    ///   - ps: the dropout before each linear layer.
    public init(dims: [Int], ps: [Float], bptt: Int) {
        precondition(ps.count == dims.count - 1, "PoolingLinearClassifier: \(ps.count) dropouts for \(dims.count - 1) layers")
        var blocks: [Module] = []
        for i in 0..<(dims.count - 1) {
            var block: [Module] = [BatchNorm1d(dims[i])]
            if ps[i] > 0 { block.append(Dropout(p: ps[i])) }
            block.append(Linear(dims[i], dims[i + 1], bias: false))
            if i < dims.count - 2 { block.append(ReLU()) }
            blocks.append(Sequential(block))
        }
        layers = Sequential(blocks)
        self.bptt = bptt
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] { [] }
    public override var ownBuffers: [(name: String, tensor: Tensor)] { [] }

    public override func forward(_ input: Tensor) -> Tensor {
        let (batch, length, width) = (input.shape[0], input.shape[1], input.shape[2] - 1)
        let out = input.narrow(dim: 2, start: 0, length: width)
        let mask = noGrad { input.narrow(dim: 2, start: width, length: 1) }  // [B, L, 1], 1 at padding
        rawOutput = out
        output = out
        let pads = mask.scalars
        var lastRows: [Int] = [], realCounts: [Float] = []
        for b in 0..<batch {
            let row = pads[(b * length)..<((b + 1) * length)]
            let trailing = row.suffix(min(bptt, length)).reduce(0) { $0 + Int($1) }
            lastRows.append(b * length + length - trailing - 1)
            realCounts.append(Float(length) - row.reduce(0, +))
        }
        let keep = 1 - mask
        let mean = (out * keep).sum(dim: 1) / Tensor(shape: [batch, 1], scalars: realCounts.map { Swift.max($0, 1) })
        let max = (out + mask * -1e30).max(dim: 1)
        let last = out.reshape([batch * length, width])[lastRows]
        return layers(Tensor.cat([last, max, mean], dim: 1))
    }
}

extension AWDLSTM {
    /// fastai's `get_language_model(AWD_LSTM, vocab_sz, config, drop_mult)`: the encoder and a
    /// decoder tied to its embedding, in a `SequentialRNN`.
    public static func languageModel(vocabSize: Int, config: AWDLSTMConfig = .languageModel, dropMult: Float = 1) -> SequentialRNN {
        let c = config.scaled(by: dropMult)
        let encoder = AWDLSTM(vocabSize: vocabSize, config: c)
        let decoder = LinearDecoder(vocabSize: vocabSize, hiddenSize: c.embeddingSize, outputP: c.outputP, tiedTo: encoder.encoder)
        return SequentialRNN([encoder, decoder])
    }

    /// fastai's `get_text_classifier(AWD_LSTM, vocab_sz, n_class, seq_len, config, drop_mult,
    /// lin_ftrs, ps, max_len)`.
    public static func classifier(
        vocabSize: Int, classes: Int, seqLen: Int = 72, config: AWDLSTMConfig = .classifier, dropMult: Float = 1, linFtrs: [Int] = [50],
        ps: [Float]? = nil, maxLen: Int? = 72 * 20
    ) -> SequentialRNN {
        let c = config.scaled(by: dropMult)
        let encoder = SentenceEncoder(bptt: seqLen, module: AWDLSTM(vocabSize: vocabSize, config: c), padIndex: c.padToken, maxLen: maxLen)
        let head = PoolingLinearClassifier(
            dims: [c.embeddingSize * 3] + linFtrs + [classes], ps: [c.outputP] + (ps ?? linFtrs.map { _ in 0.1 }), bptt: seqLen)
        return SequentialRNN([encoder, head])
    }
}

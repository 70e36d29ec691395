import Autograd
import DataBlocks
import Foundation
import Layers
import Optimizers
import Tensors
import Training

/// The text architectures `languageModelLearner` and `textClassifierLearner` build.
public enum TextArchitecture: Sendable {
    /// fastai's `AWD_LSTM`.
    case awdLSTM
}

/// Resets every module that carries state before training and validation and after fitting
/// (fastai's `ModelResetter`): a language model's streams start afresh each pass.
public final class ModelResetter: Callback {
    public override init() {}
    public override func beforeTrain(_ learn: Learner) throws { resetAll(learn) }
    public override func beforeValidate(_ learn: Learner) throws { resetAll(learn) }
    public override func afterFit(_ learn: Learner) throws { resetAll(learn) }
    private func resetAll(_ learn: Learner) {
        for module in learn.model.allModules { (module as? Resettable)?.reset() }
    }
}

/// Activation regularization (AR) and temporal activation regularization (TAR) on the last
/// LSTM layer, in training (fastai's `RNNRegularizer`): the loss the backward pass sees gains
/// `alpha` × the mean square of the dropped-out outputs and `beta` × the mean square of the
/// change between consecutive raw outputs. The reported loss is the plain one, as fastai's.
public final class RNNRegularizer: Callback {
    /// The weights of activation (AR) and temporal activation (TAR) regularization.
    public let alpha: Float, beta: Float

    /// fastai's text learners use alpha 2, beta 1.
    public init(alpha: Float = 2, beta: Float = 1) {
        self.alpha = alpha
        self.beta = beta
    }

    public override var order: Int { 1 }
    public override var runValid: Bool { false }

    public override func afterLoss(_ learn: Learner) throws {
        guard learn.training, let head = learn.model.allModules.lazy.compactMap({ $0 as? RNNOutputs }).first else { return }
        if alpha != 0, let out = head.output, out.count > 0 { learn.lossGrad = learn.lossGrad + alpha * (out * out).mean() }
        if beta != 0, let raw = head.rawOutput, raw.rank == 3, raw.shape[1] > 1 {
            let steps = raw.shape[1]
            let change = raw.narrow(dim: 1, start: 1, length: steps - 1) - raw.narrow(dim: 1, start: 0, length: steps - 1)
            learn.lossGrad = learn.lossGrad + beta * (change * change).mean()
        }
    }
}

/// fastai's `language_model_learner(dls, AWD_LSTM, drop_mult=, metrics=)`: an AWD-LSTM language
/// model over the loaders' vocabulary, trained with cross-entropy on the next token, fastai's
/// text momentum (0.8, 0.7, 0.8), `ModelResetter` and `RNNRegularizer(alpha: 2, beta: 1)`, and
/// four parameter groups (each LSTM layer, then the embedding with the decoder) for
/// `freezeTo` and discriminative rates. No pretrained weights are downloaded here: load
/// fastai's WT103 with `loadPretrained(weights:vocab:)`.
///
///     let learn = try languageModelLearner(dls, arch: .awdLSTM, dropMult: 0.3, metrics: [accuracy, perplexity])
///     try learn.fitOneCycle(epochs: 1, lrMax: 2e-2)
///     try learn.predict("I liked this movie because", nWords: 40, temperature: 0.75)
public func languageModelLearner(
    _ dls: TextDataLoaders, arch: TextArchitecture = .awdLSTM, config: AWDLSTMConfig = .languageModel, dropMult: Float = 1,
    metrics: [Metric] = [], cbs: [Callback] = [], opt: OptimizerFactory = .adam, wd: Float? = nil, alpha: Float = 2, beta: Float = 1
) throws -> Learner {
    guard dls.isLM else { throw LearnerError("languageModelLearner: the loaders were made for a classifier; make them with isLM: true") }
    try config.scaled(by: dropMult).check()
    let model = AWDLSTM.languageModel(vocabSize: dls.textVocab.count, config: config, dropMult: dropMult)
    return try textLearner(dls, model, kind: "awd_lstm_lm", metrics: metrics, cbs: cbs, opt: opt, wd: wd, alpha: alpha, beta: beta) { model in
        guard let rnn = model as? SequentialRNN, let encoder = rnn.layers.first as? AWDLSTM else { return [[model]] }
        return zip(encoder.rnns, encoder.hiddenDropouts).map { [$0, $1] } + [[encoder.encoder, encoder.encoderDropout] + rnn.layers.dropFirst()]
    }
}

/// fastai's `text_classifier_learner(dls, AWD_LSTM, drop_mult=0.5, metrics=)`: an AWD-LSTM
/// encoder read `seqLen` tokens at a time over whole documents, with fastai's pooling classifier
/// head; cross-entropy, text momentum, `ModelResetter` and `RNNRegularizer`; five parameter
/// groups (embedding, each LSTM layer, head) for chapter 10's gradual unfreezing. Load a
/// language model's encoder with `loadEncoder` (then `freeze()`), as chapter 10 does.
public func textClassifierLearner(
    _ dls: TextDataLoaders, arch: TextArchitecture = .awdLSTM, seqLen: Int = 72, config: AWDLSTMConfig = .classifier,
    dropMult: Float = 0.5, linFtrs: [Int] = [50], ps: [Float]? = nil, maxLen: Int? = 72 * 20, metrics: [Metric] = [], cbs: [Callback] = [],
    opt: OptimizerFactory = .adam, wd: Float? = nil, alpha: Float = 2, beta: Float = 1
) throws -> Learner {
    guard !dls.isLM, let classes = dls.vocab else {
        throw LearnerError("textClassifierLearner: the loaders were made for a language model; make them with isLM: false")
    }
    try config.scaled(by: dropMult).check()
    guard seqLen > 0 else { throw LearnerError("textClassifierLearner: seqLen must be positive, got \(seqLen)") }
    if let ps, ps.count != linFtrs.count || ps.contains(where: { !($0 >= 0 && $0 < 1) }) {
        throw LearnerError("textClassifierLearner: ps needs one dropout in 0..<1 per linFtrs entry (\(linFtrs.count)), got \(ps)")
    }
    let model = AWDLSTM.classifier(
        vocabSize: dls.textVocab.count, classes: classes.count, seqLen: seqLen, config: config, dropMult: dropMult, linFtrs: linFtrs, ps: ps,
        maxLen: maxLen)
    return try textLearner(dls, model, kind: "awd_lstm_classifier", metrics: metrics, cbs: cbs, opt: opt, wd: wd, alpha: alpha, beta: beta) {
        model in
        guard let rnn = model as? SequentialRNN, let sentence = rnn.layers.first as? SentenceEncoder else { return [[model]] }
        let encoder = sentence.module
        return [[encoder.encoder, encoder.encoderDropout]] + zip(encoder.rnns, encoder.hiddenDropouts).map { [$0, $1] }
            + [Array(rnn.layers.dropFirst())]
    }
}

/// fastai's `TextLearner`: cross-entropy, text momentum (0.8, 0.7, 0.8), `ModelResetter` and
/// `RNNRegularizer(alpha:beta:)`, the architecture's parameter groups, and its kind in exports.
private func textLearner(
    _ dls: TextDataLoaders, _ model: Module, kind: String, metrics: [Metric], cbs: [Callback], opt: OptimizerFactory, wd: Float?,
    alpha: Float, beta: Float, splitter: @escaping (Module) -> [[Module]]
) throws -> Learner {
    let learn = try Learner(
        dls: dls, model: model, loss: CrossEntropyLossFlat(), opt: opt, metrics: metrics,
        cbs: [ModelResetter(), RNNRegularizer(alpha: alpha, beta: beta)] + cbs, wd: wd)
    learn.moms = (0.8, 0.7, 0.8)
    learn.splitter = splitter
    learn.exportMetadata["model"] = kind
    return learn
}

extension Learner {
    /// The AWD-LSTM inside a text learner's model (a language model's first layer, a classifier's
    /// sentence encoder's module).
    public var textEncoder: AWDLSTM? {
        guard let rnn = model as? SequentialRNN else { return nil }
        return (rnn.layers.first as? AWDLSTM) ?? (rnn.layers.first as? SentenceEncoder)?.module
    }

    /// Where `saveEncoder` and `loadEncoder` keep an encoder: `path/models/<name>.safetensors`.
    public func encoderURL(_ name: String) -> URL {
        path.appendingPathComponent("models", isDirectory: true).appendingPathComponent(name + ".safetensors")
    }

    /// Saves the AWD-LSTM encoder's weights (fastai's `save_encoder`), with fastai's key names
    /// (`encoder.weight`, `rnns.0.weight_hh_l0_raw`, ...) and the vocabulary, to
    /// `path/models/<name>.safetensors`; returns the file. Refuses to replace an existing file
    /// unless `overwrite`.
    @discardableResult
    public func saveEncoder(_ name: String, overwrite: Bool = true) throws -> URL {
        guard let encoder = textEncoder else { throw LearnerError("saveEncoder: the model is not a text model with an AWD-LSTM encoder") }
        let file = encoderURL(name)
        if !overwrite && FileManager.default.fileExists(atPath: file.path) {
            throw LearnerError("saveEncoder: \(file.path) exists; pass overwrite: true to replace it")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        var metadata = ["format": "fastswift-awd-lstm-encoder"]
        if let dls = dls as? TextDataLoaders, let vocab = try? JSONEncoder().encode(dls.textVocab.tokens) {
            metadata["vocab"] = String(decoding: vocab, as: UTF8.self)
        }
        try SafeTensors.write(encoder.stateDict(), metadata: metadata, to: file)
        return file
    }

    /// Loads an encoder saved by `saveEncoder` into this learner's AWD-LSTM (fastai's
    /// `load_encoder`: chapter 10's language model's encoder into the classifier), then freezes
    /// all but the head. Throws naming the keys that do not match, or a vocabulary that differs.
    public func loadEncoder(_ name: String) throws {
        guard let encoder = textEncoder else { throw LearnerError("loadEncoder: the model is not a text model with an AWD-LSTM encoder") }
        let file = encoderURL(name)
        let (tensors, metadata) = try SafeTensors.read(file)
        if let dls = dls as? TextDataLoaders, let saved = metadata["vocab"],
            let tokens = try? JSONDecoder().decode([String].self, from: Data(saved.utf8)), tokens != dls.textVocab.tokens
        {
            throw LearnerError(
                "loadEncoder: \(file.lastPathComponent) was trained with another vocabulary (\(tokens.count) tokens, these loaders have \(dls.textVocab.count)); "
                    + "make the classifier's loaders with textVocab: the language model's loaders' textVocab")
        }
        try encoder.loadStateDict(tensors)
        freeze()
    }

    /// Loads pretrained AWD-LSTM language-model weights in fastai's format (a state dict such as
    /// WT103's `0.encoder.weight`, `0.rnns.0.weight_hh_l0_raw`, ..., `1.decoder.bias`, as
    /// safetensors: `Benchmarks/convert_fastai_text.py` converts fastai's `.pth`) with the
    /// vocabulary it was trained with (one token per line), adapting the embedding and decoder
    /// rows to this learner's vocabulary as fastai's `match_embeds` does (a new token gets the
    /// mean row), then freezes all but the last group (fastai's `load_pretrained`).
    public func loadPretrained(weights: URL, vocab: URL) throws {
        guard let dls = dls as? TextDataLoaders else { throw LearnerError("loadPretrained: the loaders are not TextDataLoaders") }
        var (state, _) = try SafeTensors.read(weights)
        let oldVocab = try String(contentsOf: vocab, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tokens = oldVocab.last == "" ? Array(oldVocab.dropLast()) : oldVocab
        state = try matchEmbeddings(state, oldVocab: tokens, newVocab: dls.textVocab.tokens, source: weights.path)
        if dls.isLM {
            try model.loadStateDict(state)
        } else {
            guard let encoder = textEncoder else { throw LearnerError("loadPretrained: the model has no AWD-LSTM encoder") }
            var encoderState: [String: Tensor] = [:]
            for (key, value) in state where key.hasPrefix("0.") { encoderState[String(key.dropFirst(2))] = value }
            try encoder.loadStateDict(encoderState)
        }
        freeze()
    }

    /// `text` and the `nWords` the language model adds after it, each drawn from its predicted
    /// distribution (fastai's `LMLearner.predict`): `xxunk` never (with `noUnk`), tokens under
    /// `minP` never, probabilities raised to `1 / temperature` (below 1: safer choices). The
    /// special tokens are decoded (`xxmaj word` → `Word`) and the tokens joined by spaces.
    public func predict(_ text: String, nWords: Int, noUnk: Bool = true, temperature: Float = 1, minP: Float? = nil) throws -> String {
        guard let dls = dls as? TextDataLoaders, dls.isLM else { throw LearnerError("predict(_:nWords:): this is not a language-model learner") }
        guard nWords >= 0 else { throw LearnerError("predict: nWords must not be negative, got \(nWords)") }
        guard temperature > 0 else { throw LearnerError("predict: temperature must be positive, got \(temperature)") }
        var tokens = dls.numericalize(text)
        let unknown = dls.textVocab.index(of: SpecialToken.unknown)
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        (model as? Resettable)?.reset()
        try noGrad {
            var input = tokens
            for _ in 0..<nWords {
                let scores = model(Tensor(shape: [1, input.count], scalars: input.map(Float.init)))
                let vocabSize = scores.shape[2]
                var p = scores.narrow(dim: 1, start: input.count - 1, length: 1).reshape([vocabSize]).softmax(dim: 0).scalars
                if noUnk { p[unknown] = 0 }
                if let minP {
                    if p.contains(where: { $0 >= minP }) { for i in p.indices where p[i] < minP { p[i] = 0 } }
                }
                if temperature != 1 { p = p.map { Foundation.pow($0, 1 / temperature) } }
                let total = p.reduce(0, +)
                guard total > 0 else { throw LearnerError("predict: no token is left to choose from (minP \(minP ?? 0) too high?)") }
                var draw = Random.withGlobal { Float($0.nextUniform()) } * total
                var next = p.count - 1
                for (i, value) in p.enumerated() {
                    draw -= value
                    if draw < 0 {
                        next = i
                        break
                    }
                }
                tokens.append(next)
                // The state carries the text so far: only the new token needs reading.
                input = [next]
            }
        }
        let words = dls.textVocab.decode(tokens).filter { $0 != SpecialToken.beginning && $0 != SpecialToken.padding }
        return decodeSpecialTokens(words).joined(separator: " ")
    }

    /// A text classifier's prediction for `text` (fastai's `learn.predict("I really liked that
    /// movie!")`): the class, its index and the probability of every class.
    public func predict(_ text: String) throws -> (label: String, index: Int, probabilities: Tensor) {
        guard let dls = dls as? TextDataLoaders, !dls.isLM, let classes = dls.vocab else {
            throw LearnerError("predict(_:): this is not a text-classifier learner (a language model predicts with nWords:)")
        }
        let tokens = dls.numericalize(text)
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        let probabilities = noGrad { model(Tensor(shape: [1, tokens.count], scalars: tokens.map(Float.init))).softmax(dim: 1).reshape([-1]) }
        let index = probabilities.argmax(dim: 0).indices()[0]
        return (classes[index], index, probabilities)
    }
}

/// fastai's `match_embeds`: a pretrained model's embedding (and decoder) rows reordered for
/// `newVocab`, the mean row for tokens the old vocabulary lacks.
func matchEmbeddings(_ state: [String: Tensor], oldVocab: [String], newVocab: [String], source: String) throws -> [String: Tensor] {
    guard let weights = state["0.encoder.weight"] else { throw DataError(source, "no '0.encoder.weight': not a fastai AWD-LSTM language model") }
    guard weights.rank == 2, weights.shape[0] == oldVocab.count else {
        throw DataError(source, "'0.encoder.weight' has \(weights.shape.first ?? 0) rows for a vocabulary of \(oldVocab.count) tokens")
    }
    var old: [String: Int] = [:]
    for (i, token) in oldVocab.enumerated() where old[token] == nil { old[token] = i }
    let rows = newVocab.map { old[$0] ?? -1 }
    func remap(_ t: Tensor) -> Tensor {
        let mean = t.mean(dim: 0, keepDim: true)
        let picked = t[rows.map { Swift.max($0, 0) }]
        let missing = Tensor(shape: [rows.count] + Array(repeating: 1, count: t.rank - 1), scalars: rows.map { $0 < 0 ? 1 : 0 })
        return picked * (1 - missing) + mean * missing
    }
    var out = state
    let embedding = noGrad { remap(weights) }
    out["0.encoder.weight"] = embedding
    out["0.encoder_dp.emb.weight"] = embedding
    out["1.decoder.weight"] = embedding
    if let bias = state["1.decoder.bias"] { out["1.decoder.bias"] = noGrad { remap(bias) } }
    return out
}

/// fastai's `decode_spec_tokens`: `xxmaj word` → `Word`, `xxup word` → `WORD`, `xxrep 3 a` →
/// `aaa`, `xxwrep 2 word` → `word word`.
public func decodeSpecialTokens(_ tokens: [String]) -> [String] {
    var out: [String] = []
    var rule: String?
    var count: Int?
    for token in tokens {
        if [SpecialToken.major, SpecialToken.upper, SpecialToken.repetition, SpecialToken.wordRepetition].contains(token) {
            rule = token
        } else if let r = rule {
            switch r {
            case SpecialToken.major:
                out.append(token.prefix(1).uppercased() + token.dropFirst().lowercased())
                rule = nil
            case SpecialToken.upper:
                out.append(token.uppercased())
                rule = nil
            default:
                if let n = count {
                    out += r == SpecialToken.repetition ? [String(repeating: token, count: n)] : Array(repeating: token, count: n)
                    rule = nil
                    count = nil
                } else if let n = Int(token) {
                    count = n
                } else {
                    rule = nil
                }
            }
        } else {
            out.append(token)
        }
    }
    return out
}

import Autograd
import DataBlocks
import Foundation
import Layers
import Optimizers
import Tensors

extension Learner {
    /// Where `save(_:)` and `load(_:)` put checkpoints: `path/models/<name>.safetensors`.
    public func checkpointFile(_ name: String) -> URL {
        path.appendingPathComponent("models", isDirectory: true).appendingPathComponent(name + ".safetensors")
    }

    /// Saves the model's weights and buffers and the optimizer's state (fastai's `learn.save`)
    /// in the safetensors format: `model.<name>` and `opt.<name>` entries. Written to a
    /// temporary name and renamed. Returns the file. Saved at the end of an epoch of a fit
    /// (as `SaveModel(everyEpoch: true)` does), it also records where the fit stands and its
    /// random generators, so `fit(…, resume: file)` can continue it exactly.
    @discardableResult
    public func save(_ name: String, withOptimizer: Bool = true) throws -> URL {
        guard processRank == 0 else { return checkpointFile(name) }  // in a distributed fit, rank 0 writes
        var tensors: [String: Tensor] = [:]
        for (key, t) in model.stateDict() { tensors["model." + key] = t }
        if withOptimizer, let opt { for (key, t) in opt.stateDict() { tensors["opt." + key] = t } }
        var metadata = ["format": "fastswift-checkpoint"]
        if withOptimizer, isFitting, iteration == completedEpochs * iterationsPerEpoch {
            let state = ResumeState(
                completedEpochs: completedEpochs, epochs: epochs, iteration: iteration,
                iterationsPerEpoch: iterationsPerEpoch, globalRandom: Random.withGlobal { $0.state },
                trainRandom: dls.train.randomState, validRandom: dls.valid.randomState,
                smoothedLoss: recorder.smoothing.average, smoothedBatches: recorder.smoothing.count)
            metadata[ResumeState.key] = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        }
        let file = checkpointFile(name)
        try SafeTensors.write(tensors, metadata: metadata, to: file)
        return file
    }

    /// Loads a checkpoint written by `save(_:)` into the model (in place) and, when it holds
    /// optimizer state, into the optimizer. Throws, listing every mismatch, when the names,
    /// shapes or values do not fit; nothing is changed then (model, optimizer or neither).
    public func load(_ name: String) throws {
        try load(from: checkpointFile(name))
    }

    /// `load(_:)` from a checkpoint file anywhere.
    public func load(from file: URL) throws {
        try load(checkpoint: try SafeTensors.read(file).tensors)
    }

    /// Loads the tensors of a checkpoint file already read (`model.` and `opt.` entries).
    private func load(checkpoint tensors: [String: Tensor]) throws {
        var modelState: [String: Tensor] = [:], optState: [String: Tensor] = [:]
        var unknown: [String] = []
        for (key, t) in tensors {
            if key.hasPrefix("model.") {
                modelState[String(key.dropFirst(6))] = t
            } else if key.hasPrefix("opt.") {
                optState[String(key.dropFirst(4))] = t
            } else {
                unknown.append("\(key): neither model. nor opt. state")
            }
        }
        if !unknown.isEmpty { throw StateMismatch(unknown.sorted()) }
        // Every mismatch, model and optimizer, is listed before anything changes: the optimizer's
        // state is first tried on a throwaway optimizer of the same kind.
        var problems = model.stateMismatches(modelState)
        if !optState.isEmpty {
            do {
                try optimizerFactory.make(model.parameters, 1e-3).loadStateDict(optState)
            } catch let mismatch as StateMismatch {
                problems += mismatch.problems
            }
        }
        guard problems.isEmpty else { throw StateMismatch(problems) }
        if !optState.isEmpty {
            if opt == nil { makeOptimizer(lr: 1e-3) }
            try opt!.loadStateDict(optState)
        }
        try model.loadStateDict(modelState)
    }

    /// Restores a fit from a checkpoint saved at the end of one of its epochs: model, optimizer,
    /// position in the schedule and random generators. Returns the epochs already done.
    func resumeState(from file: URL) throws -> Int {
        let (tensors, metadata) = try SafeTensors.read(file)
        guard let text = metadata[ResumeState.key] else {
            throw LearnerError(
                "\(file.path) cannot resume a fit: it was not saved at the end of an epoch of one "
                    + "(use SaveModel(everyEpoch: true))")
        }
        guard let state = try? JSONDecoder().decode(ResumeState.self, from: Data(text.utf8)) else {
            throw LearnerError("\(file.path): the saved training state is malformed")
        }
        guard state.epochs == epochs, state.iterationsPerEpoch == iterationsPerEpoch,
            (0...epochs).contains(state.completedEpochs), state.iteration == state.completedEpochs * iterationsPerEpoch
        else {
            throw LearnerError(
                "\(file.path) was saved after epoch \(state.completedEpochs) of a fit of \(state.epochs) epochs of "
                    + "\(state.iterationsPerEpoch) batches; this fit has \(epochs) epochs of \(iterationsPerEpoch) batches. "
                    + "Resume with the same epochs, data and batch size")
        }
        for (name, words) in [("global", state.globalRandom), ("train", state.trainRandom), ("valid", state.validRandom)] where words.count != 6 {
            throw LearnerError("\(file.path): the saved \(name) random state has \(words.count) words, not 6")
        }
        try load(checkpoint: tensors)
        Random.withGlobal { $0.state = state.globalRandom }
        dls.train.randomState = state.trainRandom
        dls.valid.randomState = state.validRandom
        iteration = state.iteration
        resumedSmoothing = (state.smoothedLoss, state.smoothedBatches)
        return state.completedEpochs
    }

    /// Saves what prediction needs (fastai's `learn.export`): the weights, the vocab, and, for a
    /// `visionLearner`, the architecture and input channels, so `loadLearner` can rebuild it.
    @discardableResult
    public func export(_ file: URL? = nil) throws -> URL {
        let target = file ?? path.appendingPathComponent("export.safetensors")
        guard processRank == 0 else { return target }  // in a distributed fit, rank 0 writes
        var metadata = ["format": "fastswift-export"]
        if let vocab = dls.vocab, let json = try? JSONSerialization.data(withJSONObject: vocab) {
            metadata["vocab"] = String(decoding: json, as: UTF8.self)
        }
        if let (arch, channels) = architecture {
            metadata["arch"] = arch.name
            metadata["in_channels"] = String(channels)
        }
        try SafeTensors.write(model.stateDict(), metadata: metadata, to: target)
        return target
    }
}

/// A model ready for prediction, loaded by `loadLearner`.
public final class InferenceLearner {
    public let model: Module
    public let vocab: [String]?

    init(model: Module, vocab: [String]?) {
        self.model = model
        self.vocab = vocab
        model.eval()
    }

    /// The decoded label, class index and class probabilities for one item (`[C, H, W]`).
    public func predict(_ item: Tensor) -> (label: String, index: Int, probabilities: Tensor) {
        predictOne(model, vocab: vocab, item)
    }
}

/// `model`'s class probabilities for one item, the most likely class and its label.
func predictOne(_ model: Module, vocab: [String]?, _ item: Tensor) -> (label: String, index: Int, probabilities: Tensor) {
    let probabilities = noGrad { model(item.unsqueeze(0)) }.softmax(dim: -1).squeeze(0)
    let index = Int(probabilities.argmax().item())
    return (vocab.map { index < $0.count ? $0[index] : "\(index)" } ?? "\(index)", index, probabilities)
}

/// Loads a file written by `Learner.export` (fastai's `load_learner`). A `visionLearner` export
/// rebuilds its own model; for any other model, pass one of the same shape as `model`.
public func loadLearner(_ file: URL, model: Module? = nil) throws -> InferenceLearner {
    let (tensors, metadata) = try SafeTensors.read(file)
    let vocab = metadata["vocab"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String] }
    let target: Module
    if let model {
        target = model
    } else if let name = metadata["arch"] {
        target = try exportedModel(file, arch: name, channels: metadata["in_channels"], vocab: vocab, tensors: tensors)
    } else {
        throw LearnerError("\(file.path) is not a visionLearner export: pass the model to load the weights into (loadLearner(file, model:))")
    }
    try target.loadStateDict(tensors)
    return InferenceLearner(model: target, vocab: vocab)
}

/// The model a `visionLearner` export describes, checked against the tensors it holds before
/// anything is built (so its metadata cannot ask for an absurd model): the stem's weight
/// `[64, in_channels, 7, 7]` and the head's last weight `[classes, 512]` must be in the file.
func exportedModel(_ file: URL, arch name: String, channels: String?, vocab: [String]?, tensors: [String: Tensor]) throws -> Module {
    guard let arch = Architecture(name: name) else {
        throw LearnerError("\(file.path): unknown architecture '\(name)' in the export (known: \(Architecture.allCases.map(\.name).joined(separator: ", ")))")
    }
    guard let text = channels, let inChannels = Int(text), inChannels > 0 else {
        throw LearnerError("\(file.path): the export's in_channels is \(channels.map { "'\($0)'" } ?? "missing"); it must be a positive whole number")
    }
    guard let vocab, !vocab.isEmpty else {
        throw LearnerError("\(file.path): the export has \(vocab == nil ? "no readable vocab" : "an empty vocab"); a visionLearner export lists its classes")
    }
    let shapes = Set(tensors.values.map(\.shape))
    guard shapes.contains([64, inChannels, 7, 7]) else {
        throw LearnerError("\(file.path): the export says in_channels \(inChannels), but holds no stem weight of shape [64, \(inChannels), 7, 7]")
    }
    guard shapes.contains([vocab.count, 512]) else {
        throw LearnerError("\(file.path): the export's vocab has \(vocab.count) classes, but it holds no head weight of shape [\(vocab.count), 512]")
    }
    return arch.model(inChannels: inChannels, classes: vocab.count)
}

/// Where a fit stood when a checkpoint was saved at the end of an epoch, stored as JSON in the
/// checkpoint's metadata.
struct ResumeState: Codable {
    static let key = "fastswift_training_state"
    let completedEpochs: Int, epochs: Int, iteration: Int, iterationsPerEpoch: Int
    let globalRandom: [UInt64], trainRandom: [UInt64], validRandom: [UInt64]
    let smoothedLoss: Double, smoothedBatches: Int
}

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
        try exclusively { try saveHoldingLock(name, withOptimizer: withOptimizer) }
    }

    private func saveHoldingLock(_ name: String, withOptimizer: Bool) throws -> URL {
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
        let tensors = try SafeTensors.read(file).tensors
        try exclusively { try load(checkpoint: tensors) }
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
                try optimizerFactory.make(parameterGroups, 1e-3).loadStateDict(optState)
            } catch let mismatch as StateMismatch {
                problems += mismatch.problems
            }
        }
        guard problems.isEmpty else { throw StateMismatch(problems) }
        if !optState.isEmpty {
            try optimizer().loadStateDict(optState)
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
        return try exclusively { try exportHoldingLock(to: target) }
    }

    private func exportHoldingLock(to target: URL) throws -> URL {
        var metadata = ["format": "fastswift-export"]
        if let vocab = dls.vocab, let json = try? JSONSerialization.data(withJSONObject: vocab) {
            metadata["vocab"] = String(decoding: json, as: UTF8.self)
        }
        for (key, value) in exportMetadata where metadata[key] == nil { metadata[key] = value }
        for (key, value) in OutputDecodingRecord.metadata(outputDecoding) { metadata[key] = value }
        try SafeTensors.write(model.stateDict(), metadata: metadata, to: target)
        return target
    }
}

/// A model ready for prediction, loaded by `loadLearner`.
public final class InferenceLearner {
    public let model: Module
    public let vocab: [String]?
    /// The export's metadata: what an application needs to prepare new items (a table's procs).
    public let metadata: [String: String]

    /// How the outputs become predictions and decoded targets, as the exported learner's
    /// `outputDecoding` (recorded in the export; nil for an export that does not say).
    public let outputDecoding: (any BaseLoss)?

    init(model: Module, vocab: [String]?, metadata: [String: String] = [:]) {
        self.model = model
        self.vocab = vocab
        self.metadata = metadata
        outputDecoding = OutputDecodingRecord.decoding(metadata)
        model.eval()
    }

    /// The decoded target as text, the most likely class's index and the predictions
    /// (probabilities) for one item (`[C, H, W]`), as the exported learner's `predict`.
    public func predict(_ item: Tensor) -> (label: String, index: Int, probabilities: Tensor) {
        predictOne(model, item, decoding: outputDecoding) { OutputDecodingRecord.describe($0, decoding: outputDecoding, vocab: vocab) }
    }
}

/// How an export records its learner's `outputDecoding`, so the loaded model decodes as the
/// learner did: the loss's name (`output_decoding`) and its threshold or axis.
enum OutputDecodingRecord {
    static func metadata(_ decoding: (any BaseLoss)?) -> [String: String] {
        switch decoding {
        case let ce as CrossEntropyLossFlat: return ["output_decoding": "CrossEntropyLossFlat", "output_axis": String(ce.axis)]
        case let bce as BCEWithLogitsLossFlat: return ["output_decoding": "BCEWithLogitsLossFlat", "output_threshold": String(bce.threshold)]
        case is MSELossFlat: return ["output_decoding": "MSELossFlat"]
        case is L1LossFlat: return ["output_decoding": "L1LossFlat"]
        default: return [:]
        }
    }

    static func decoding(_ metadata: [String: String]) -> (any BaseLoss)? {
        switch metadata["output_decoding"] {
        case "CrossEntropyLossFlat": return CrossEntropyLossFlat(axis: metadata["output_axis"].flatMap { Int($0) } ?? -1)
        case "BCEWithLogitsLossFlat": return BCEWithLogitsLossFlat(threshold: metadata["output_threshold"].flatMap { Float($0) } ?? 0.5)
        case "MSELossFlat": return MSELossFlat()
        case "L1LossFlat": return L1LossFlat()
        default: return nil
        }
    }

    /// A decoded target as text, by the kind of target the decoding implies.
    static func describe(_ decoded: Tensor, decoding: (any BaseLoss)?, vocab: [String]?) -> String {
        switch decoding {
        case is BCEWithLogitsLossFlat: return MultiCategoryBlock().describe(decoded, vocab: vocab)
        case is MSELossFlat, is L1LossFlat: return RegressionBlock().describe(decoded, vocab: vocab)
        default: return CategoryBlock().describe(decoded, vocab: vocab)
        }
    }
}

/// `model`'s class probabilities for one item, the most likely class and its label.
func predictOne(
    _ model: Module, _ item: Tensor, decoding: (any BaseLoss)?, describe: (Tensor) -> String
) -> (label: String, index: Int, probabilities: Tensor) {
    let output = noGrad { model(item.unsqueeze(0)) }
    let probabilities = (decoding?.activation(output) ?? output.softmax(dim: -1)).squeeze(0)
    let decoded = decoding?.decodes(probabilities) ?? probabilities.argmax()
    return (describe(decoded), Int(probabilities.argmax().item()), probabilities)
}

/// What an export file holds: its weights, its metadata (`Learner.exportMetadata` and more) and
/// its vocab, for the application that rebuilds its model.
public struct ExportContents {
    /// The file it was read from.
    public let file: URL
    /// The model's weights and buffers by PyTorch-style name.
    public let tensors: [String: Tensor]
    /// The export's metadata (`format`, `vocab`, and the learner's `exportMetadata`).
    public let metadata: [String: String]
    /// The class names, when the export lists them.
    public let vocab: [String]?

    /// Reads an export; throws naming the file when it is not a readable safetensors export.
    public init(_ file: URL) throws {
        (tensors, metadata) = try SafeTensors.read(file)
        self.file = file
        vocab = metadata["vocab"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String] }
    }
}

/// Loads a file written by `Learner.export` into `model`, a model of the same shape as the one
/// exported (fastai's `load_learner` for a model FastSwift cannot rebuild by itself); throws
/// listing every missing, unexpected or mis-shaped tensor.
public func loadLearner(_ file: URL, model: Module) throws -> InferenceLearner {
    try loadLearner(file) { _ in model }
}

/// Loads a file written by `Learner.export`, with the model `rebuild` makes from its contents
/// (an application's: `import FastSwift`'s `loadLearner(_:)` rebuilds every application's).
public func loadLearner(_ file: URL, rebuild: (ExportContents) throws -> Module) throws -> InferenceLearner {
    let contents = try ExportContents(file)
    let target = try rebuild(contents)
    try target.loadStateDict(contents.tensors)
    return InferenceLearner(model: target, vocab: contents.vocab, metadata: contents.metadata)
}

/// Where a fit stood when a checkpoint was saved at the end of an epoch, stored as JSON in the
/// checkpoint's metadata.
struct ResumeState: Codable {
    static let key = "fastswift_training_state"
    let completedEpochs: Int, epochs: Int, iteration: Int, iterationsPerEpoch: Int
    let globalRandom: [UInt64], trainRandom: [UInt64], validRandom: [UInt64]
    let smoothedLoss: Double, smoothedBatches: Int
}

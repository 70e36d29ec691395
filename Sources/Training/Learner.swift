import Autograd
import DataBlocks
import Foundation
import Layers
import Optimizers
import Tensors

/// Makes the optimizer for the model's parameter groups and a learning rate (fastai's
/// `opt_func`): `.adam` (the default, with fastai's hyper-parameters), `.sgd`, or your own:
/// `OptimizerFactory { BasicOptim($0, lr: $1) }`.
public struct OptimizerFactory {
    /// The optimizer for parameter groups (the Learner's `splitter`'s) and a learning rate.
    public let make: ([[Tensor]], Float) -> Optimizer
    /// A factory from a function of the parameter groups and the learning rate.
    public init(_ make: @escaping ([[Tensor]], Float) -> Optimizer) { self.make = make }

    /// fastai's Adam: β (0.9, 0.99), eps 1e-5, true weight decay 0.01.
    public static var adam: OptimizerFactory { OptimizerFactory { Adam($0, lr: $1) } }
    /// Plain SGD (momentum 0, until a schedule such as one-cycle's sets it).
    public static var sgd: OptimizerFactory { OptimizerFactory { SGD($0, lr: $1) } }
    /// fastai's SGD with momentum (scheduled by one-cycle) and true weight decay.
    public static func sgd(momentum: Float, weightDecay: Float = 0) -> OptimizerFactory {
        OptimizerFactory { SGD($0, lr: $1, momentum: momentum, weightDecay: weightDecay, decoupledWeightDecay: true) }
    }
}

/// Something the Learner reports a failure with: what does not fit, and where.
public struct LearnerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// fastai's `Learner`: a model, its data, a loss and an optimizer, trained by `fit` with
/// callbacks around every step.
///
///     let learn = Learner(dls: dls, model: simpleNet, loss: mnistLoss, opt: .sgd, metrics: [batchAccuracy])
///     try learn.fit(epochs: 20, lr: 0.01)
///
/// A learner does one thing at a time: fitting, validating, predicting, saving, loading and
/// exporting each hold it, so a call from a second thread while another runs waits until that
/// one returns (a `predict` during a fit sees the weights the fit ends with, and does not switch
/// the fit's model to eval mode under it). The thread that holds it may call in again, as a
/// callback does. Different learners run at once on different threads, each as it would alone.
public final class Learner {
    /// Held by the thread running one of the learner's operations (see above); recursive.
    let operationLock = NSRecursiveLock()
    public let dls: DataLoaders<(Tensor, Tensor)>
    public let model: Module
    /// The loss function (fastai's `loss_func`); a callback may swap in its own for a fit, as
    /// `MixUp` does.
    public var lossFunction: LossFunction
    /// How the model's outputs become predictions and decoded targets (`getPreds`, `predict`,
    /// `showResults`; fastai's `loss_func.activation` and `decodes`): the `BaseLoss` the learner
    /// was given, or else its loaders' target block's. Nil when neither is known: outputs that
    /// are rows of class scores are then softmaxed and decoded to their most likely class.
    public var outputDecoding: (any BaseLoss)?
    public let optimizerFactory: OptimizerFactory
    public let metrics: [Metric]
    /// The callbacks, in the order they run (by `order`, then as given).
    public private(set) var callbacks: [Callback]
    /// Records losses, metrics and hyper-parameters (always present).
    public let recorder: Recorder
    /// The progress table and bar; `learn.progress.show = false` switches it off.
    public let progress: ProgressCallback

    /// The folder `save` and `export` write under (fastai's `learn.path`); the current folder by default.
    public var path = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    /// What `export` writes beside the weights and the vocab so that `loadLearner` can rebuild
    /// the model (`visionLearner` records its architecture and input channels here).
    public var exportMetadata: [String: String] = [:]
    /// Splits the model into parameter groups, first to last (fastai's `splitter`): the unit
    /// of freezing and of discriminative learning rates. By default one group, the whole model;
    /// `visionLearner` splits a ResNet into its early body, its late body and the head.
    public var splitter: (Module) -> [[Module]] = { [[$0]] }
    /// This process's rank in a distributed fit (0 otherwise): only rank 0 prints and writes
    /// checkpoints and exports.
    public internal(set) var processRank = 0
    /// The weight decay the optimizer starts with (nil: the optimizer's own default, as
    /// fastai's `wd=None`); `fit(..., wd:)` changes it for a fit.
    public let wd: Float?
    /// Whether batch norms' parameters and every bias get weight decay (fastai's `wd_bn_bias`).
    /// True by default here, where fastai's default is false: FastSwift's training results, and
    /// its tables, were made with it.
    public let wdBNBias: Bool
    /// Whether batch norms keep training in frozen groups (fastai's `train_bn`).
    public let trainBN: Bool
    /// The momentum schedule of `fitOneCycle` when it is given none (fastai's `Learner(moms=)`):
    /// start, peak and end; text learners use (0.8, 0.7, 0.8).
    public var moms: (Double, Double, Double) = (0.95, 0.85, 0.95)

    // State that callbacks read and may change.
    /// Input shapes (and modes) the model has been checked against.
    private var checkedShapes: Set<CheckedShape> = []
    private struct CheckedShape: Hashable { let shape: [Int]; let training: Bool }
    /// True while `fit` runs; `completedEpochs` counts its epochs done, validation included.
    var isFitting = false, completedEpochs = 0
    /// The recorder's loss smoothing when the fit resumes a checkpoint (read as the fit starts).
    var resumedSmoothing: (average: Double, count: Int)?

    /// The optimizer (made on the first fit).
    public private(set) var opt: Optimizer?
    public var epoch = 0, epochs = 0
    /// Training batches done in this fit.
    public var iteration = 0
    /// Training batches per epoch.
    public var iterationsPerEpoch = 0
    /// True in the training part of an epoch, false while validating.
    public private(set) var training = false
    public var xb = Tensor(0), yb = Tensor(0)
    public var pred = Tensor(0)
    /// The batch's loss (fastai's `learn.loss`), set after each prediction: what the recorder
    /// and the progress table show.
    public var loss = Tensor(0)
    /// What the backward pass differentiates (fastai's `learn.loss_grad`): the loss, plus what
    /// callbacks add in `afterLoss` (the RNN regularizer's activation penalties).
    public var lossGrad = Tensor(0)

    /// A learner that trains `model` on `dls` (fastai's `Learner(dls, model, loss_func=...)`).
    ///
    /// - Parameters:
    ///   - dls: the training and validation loaders, batches of `(inputs, targets)`.
    ///   - model: the model; its parameters are trained in place.
    ///   - loss: the loss of a batch's predictions against its targets, a scalar tensor.
    ///   - opt: makes the optimizer from the parameters and a learning rate on the first fit
    ///     (fastai's Adam by default).
    ///   - metrics: computed over the validation set every epoch, shown in the table.
    ///   - cbs: callbacks for every fit (a `Recorder` and the progress table are always added).
    ///   - wd: the weight decay to start with (nil: the optimizer's default, Adam's 0.01).
    ///   - wdBNBias: whether batch norms' parameters and biases get weight decay (fastai's
    ///     `wd_bn_bias`; true by default here, see `wdBNBias`).
    ///   - trainBN: whether batch norms keep training in frozen groups (fastai's `train_bn`).
    public init(
        dls: DataLoaders<(Tensor, Tensor)>, model: Module, loss: @escaping LossFunction,
        opt: OptimizerFactory = .adam, metrics: [Metric] = [], cbs: [Callback] = [],
        wd: Float? = nil, wdBNBias: Bool = true, trainBN: Bool = true
    ) {
        self.dls = dls
        self.model = model
        lossFunction = loss
        outputDecoding = dls.lossFunction
        optimizerFactory = opt
        self.metrics = metrics
        self.wd = wd
        self.wdBNBias = wdBNBias
        self.trainBN = trainBN
        recorder = Recorder()
        progress = ProgressCallback()
        callbacks = []
        add(cbs + [recorder, progress])
    }

    /// A learner trained with a `BaseLoss` (`BCEWithLogitsLossFlat(threshold: 0.2)`,
    /// `MSELossFlat()`), or with none: then the loss the loaders' target block names
    /// (fastai's `Learner(dls, model)` taking `dls.loss_func`), cross-entropy for classes,
    /// binary cross-entropy for sets of labels, mean squared error for values. The loss also
    /// gives the activation and decoding of the outputs (`outputDecoding`). Throws when no loss
    /// is given and the loaders do not name one. The other parameters are
    /// `init(dls:model:loss:opt:metrics:cbs:wd:wdBNBias:trainBN:)`'s.
    public convenience init(
        dls: DataLoaders<(Tensor, Tensor)>, model: Module, loss: (any BaseLoss)? = nil,
        opt: OptimizerFactory = .adam, metrics: [Metric] = [], cbs: [Callback] = [],
        wd: Float? = nil, wdBNBias: Bool = true, trainBN: Bool = true
    ) throws {
        guard let chosen = loss ?? dls.lossFunction else {
            throw LearnerError(
                "Learner: no loss function: pass one (loss: CrossEntropyLossFlat(), MSELossFlat(), or a function), "
                    + "or build the loaders with a DataBlock, whose target block names its loss")
        }
        self.init(
            dls: dls, model: model, loss: { chosen($0, $1) }, opt: opt, metrics: metrics, cbs: cbs, wd: wd, wdBNBias: wdBNBias,
            trainBN: trainBN)
        outputDecoding = chosen
    }

    /// Makes the optimizer for the model's parameter groups (fastai's `create_opt`): batch
    /// norms' parameters always trained (`trainBN`), batch norms' and biases without weight
    /// decay unless `wdBNBias`, and `wd` when given.
    @discardableResult
    func makeOptimizer(lr: Float) -> Optimizer {
        let opt = optimizerFactory.make(parameterGroups, lr)
        let normParameters = Set(model.allModules.filter { $0 is BatchNorm }.flatMap(\.parameters).compactMap(\.parameterIdentity))
        if trainBN { opt.alwaysTrained = normParameters }
        if !wdBNBias {
            let biases = model.allModules.flatMap { $0.ownParameters.filter { $0.name == "bias" }.map(\.tensor) }
            opt.withoutWeightDecay = normParameters.union(biases.compactMap(\.parameterIdentity))
        }
        if let wd { opt.set(\.weightDecay, wd) }
        self.opt = opt
        return opt
    }

    /// The optimizer, made (at learning rate 1e-3, fastai's default) if no fit has made it yet.
    func optimizer() -> Optimizer { opt ?? makeOptimizer(lr: 1e-3) }

    /// Adds callbacks, keeping them sorted by `order`.
    public func add(_ cbs: [Callback]) {
        callbacks = (callbacks + cbs).enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }.map(\.element)
    }

    /// Removes callbacks of the given type.
    public func remove<C: Callback>(_ type: C.Type) { callbacks.removeAll { $0 is C } }

    /// How far through training we are, 0...1 (for schedules).
    public var pctTrain: Double {
        let total = Double(max(1, epochs * iterationsPerEpoch))
        return min(1, Double(iteration) / total)
    }

    /// Trains for `epochs` epochs at a constant learning rate.
    ///
    /// - Parameters:
    ///   - epochs: passes over the training set, each followed by validation.
    ///   - lr: the learning rate.
    ///   - cbs: callbacks for this fit only, besides the Learner's own.
    ///   - resume: a checkpoint written at the end of an epoch of this same fit (by
    ///     `SaveModel(everyEpoch: true)`): the run continues after that epoch with the model,
    ///     optimizer, schedule position and random generators it had, and ends with the weights
    ///     the uninterrupted run would have (same seed and thread count).
    ///   - wd: the weight decay from this fit on (fastai's `fit(wd=)`); nil keeps the optimizer's.
    public func fit(epochs: Int, lr: Float, cbs: [Callback] = [], resume: URL? = nil, wd: Float? = nil) throws {
        try fit(epochs: epochs, lrs: [lr], cbs: cbs, resume: resume, wd: wd)
    }

    /// `fit` with a learning rate per parameter group (one rate: every group's).
    func fit(epochs: Int, lrs: [Float], cbs: [Callback], resume: URL?, wd: Float?) throws {
        try exclusively { try fitHoldingLock(epochs: epochs, lrs: lrs, cbs: cbs, resume: resume, wd: wd) }
    }

    private func fitHoldingLock(epochs: Int, lrs: [Float], cbs: [Callback], resume: URL?, wd: Float?) throws {
        let saved = callbacks
        add(cbs)
        defer { callbacks = saved }
        guard epochs >= 0 else { throw LearnerError("fit(epochs: \(epochs)): the number of epochs cannot be negative") }
        try checkTrainingBatches()
        let opt = self.opt ?? makeOptimizer(lr: lrs[lrs.count - 1])
        guard lrs.count == 1 || lrs.count == opt.groups.count else {
            throw LearnerError("fit: \(lrs.count) learning rates for \(opt.groups.count) parameter groups")
        }
        opt.set(\.lr, lrs)
        if let wd { opt.set(\.weightDecay, wd) }
        try checkOneBatch()
        self.epochs = epochs
        iteration = 0
        iterationsPerEpoch = dls.train.count
        completedEpochs = 0
        if let resume { completedEpochs = try resumeState(from: resume) }
        isFitting = true
        defer { isFitting = false; resumedSmoothing = nil }
        try withEvents(.fit) {
            for e in completedEpochs..<epochs {
                epoch = e
                try withEvents(.epoch) {
                    try trainEpoch()
                    try validateEpoch()
                    completedEpochs = e + 1
                }
            }
        }
    }

    /// The validation loss and metrics, averaged over the validation set.
    @discardableResult
    public func validate() throws -> [Float] {
        try exclusively {
            try validateEpoch()
            return recorder.lastValidation
        }
    }

    /// Predictions (the model's outputs) and targets for the whole validation set, through the
    /// validation events as `getPreds(training:withDecoded:withLoss:withInput:)`.
    public func getPreds() throws -> (predictions: Tensor, targets: Tensor) {
        let gathered = try gatherPredictions(over: dls.valid, withInput: false)
        return (gathered.outputs, gathered.targets)
    }

    /// fastai's `get_preds` loop: the validation loop (`beforeValidate`, each batch's
    /// `beforeBatch`, `afterPred`, `afterLoss`, `afterBatch`, then `afterValidate`) over a copy
    /// of the training or validation loader that neither shuffles nor drops its last batch, in
    /// eval mode without gradients, while a gathering callback keeps each batch's outputs,
    /// targets and (`withInput`) inputs. Callbacks whose `runPredict` is false (the `Recorder`,
    /// the progress output) sit it out, so `recorder` and the table stay as they were.
    /// Throws what the loop throws (a batch the model cannot take, a callback's error).
    func gatherPredictions(over items: DataLoader<(Tensor, Tensor)>, withInput: Bool) throws -> (outputs: Tensor, targets: Tensor, inputs: Tensor?) {
        try exclusively { try gatherPredictionsHoldingLock(over: items, withInput: withInput) }
    }

    private func gatherPredictionsHoldingLock(
        over items: DataLoader<(Tensor, Tensor)>, withInput: Bool
    ) throws -> (outputs: Tensor, targets: Tensor, inputs: Tensor?) {
        let loader = try items.copy(shuffle: false, dropLast: false)
        let gather = GatherPredictions(withInput: withInput)
        let saved = callbacks
        add([gather])
        predicting = true
        defer { callbacks = saved; predicting = false }
        try validationLoop(over: loader)
        func joined(_ parts: [Tensor]) -> Tensor { parts.isEmpty ? Tensor.zeros([0]) : Tensor.cat(parts) }
        return (joined(gather.outputs), joined(gather.targets), withInput && !gather.inputs.isEmpty ? joined(gather.inputs) : nil)
    }

    /// The decoded target as text (the class; the classes over the threshold, joined by ";"; the
    /// values), the most likely class's index and the predictions (probabilities) for one item
    /// (`[C, H, W]`, or whatever the model takes without the batch axis).
    public func predict(_ item: Tensor) -> (label: String, index: Int, probabilities: Tensor) {
        exclusively {
            model.eval()
            defer { model.train() }
            return predictOne(model, item, decoding: outputDecoding, describe: dls.describeTarget)
        }
    }

    // MARK: - The loop

    private func trainEpoch() throws {
        training = true
        model.train()
        try withEvents(.train) {
            for (i, batch) in dls.train.enumerated() {
                try oneBatch(batch, index: i)
                iteration += 1
            }
        }
    }

    private func validateEpoch() throws {
        try validationLoop(over: dls.valid)
    }

    /// The validation loop over `loader`'s batches, in eval mode without gradients: validation,
    /// and `getPreds`.
    private func validationLoop(over loader: DataLoader<(Tensor, Tensor)>) throws {
        training = false
        model.eval()
        defer { model.train() }
        try noGrad {
            try withEvents(.validate) {
                for (i, batch) in loader.enumerated() { try oneBatch(batch, index: i) }
            }
        }
    }

    private func oneBatch(_ batch: (Tensor, Tensor), index: Int) throws {
        (xb, yb) = batch
        try withEvents(.batch) {
            let set = predicting ? "prediction" : training ? "training" : "validation"
            try checkInput(xb.shape, batch: "\(set) batch \(index)")
            pred = model(xb)
            try checkClassTargets(pred, yb, batch: "\(set) batch \(index)")
            try each(.batch) { try $0.afterPred(self) }
            loss = lossFunction(pred, yb)
            lossGrad = loss
            try each(.batch) { try $0.afterLoss(self) }
            guard training, let opt else { return }
            try withEvents(.backward) {
                lossGrad.backward()
            }
            try withEvents(.step) {
                opt.step()
            }
            opt.zeroGrad()
        }
    }

    /// True while `getPreds` runs its loop.
    public private(set) var predicting = false

    /// Calls `event` on the callbacks that run in `phase` as the loop stands: in `getPreds`
    /// those with `runPredict`; for a batch's events, those with `runTrain` or `runValid`.
    private func each(_ phase: Phase, _ event: (Callback) throws -> Void) throws {
        for cb in callbacks {
            if predicting && !cb.runPredict { continue }
            if phase.isInnerLoop && !(training ? cb.runTrain : cb.runValid) { continue }
            try event(cb)
        }
    }

    /// fastai's `_with_events`: the phase's before event, the body, and on the phase's own
    /// cancellation its cancel event; then the after event either way.
    private func withEvents(_ phase: Phase, _ body: () throws -> Void) throws {
        do {
            try each(phase) { try phase.before($0, self) }
            try body()
        } catch  where phase.isCancellation(error) {
            try each(phase) { try phase.cancelled($0, self) }
        }
        try each(phase) { try phase.after($0, self) }
    }

    /// Throws unless the training loader yields at least one batch (a loader that drops its last
    /// partial batch yields none from fewer items than one batch holds).
    func checkTrainingBatches() throws {
        let train = dls.train
        guard train.count > 0 else {
            throw LearnerError(
                "the training set gives no batch: \(train.itemCount) items with batch size \(train.batchSize)"
                    + (train.dropLast ? " and the last partial batch dropped" : "")
                    + "; use a smaller batch size or more training items")
        }
    }

    /// Throws, naming the batch, the layer and both shapes, unless every layer of the model can
    /// take inputs of `shape` in its current mode (`Module.outputShape(for:)`). Each shape is
    /// checked once per mode.
    private func checkInput(_ shape: [Int], batch: String) throws {
        let key = CheckedShape(shape: shape, training: model.isTraining)
        guard !checkedShapes.contains(key) else { return }
        do {
            _ = try model.outputShape(for: shape)
        } catch let error as LayerShapeError {
            throw LearnerError("the \(batch) of shape \(shape) does not fit the model: \(error)")
        }
        checkedShapes.insert(key)
    }

    /// Throws, naming the batch and the value, when the model outputs class scores `[n, C]` for
    /// targets `[n]` and a target is not a class index in `0..<C` (which would stop the loss).
    /// Reads the targets in place: no copy per batch. Every caller checks targets here.
    private func checkClassTargets(_ output: Tensor, _ targets: Tensor, batch: String) throws {
        guard output.rank == 2, targets.rank == 1, output.shape[1] > 1, output.shape[0] <= targets.shape[0] else { return }
        let classes = output.shape[1]
        let bad = targets.withUnsafeBufferPointer { values in values.first { !($0 >= 0 && $0 < Float(classes) && $0 == $0.rounded()) } }
        if let bad {
            throw LearnerError(
                "\(batch): a target is \(bad), but the model outputs \(classes) class scores (targets must be 0...\(classes - 1)); "
                    + "the last layer must have as many outputs as the vocab (\(dls.vocab?.count ?? 0))")
        }
    }

    /// Runs one batch through model, loss and metrics before training, and explains a
    /// mismatch instead of failing late.
    private func checkOneBatch() throws {
        let (x, y) = dls.valid.oneBatch()
        // In eval mode, as validation runs: the check must not move batch-norm statistics or
        // draw dropout masks (and a one-item validation batch is fine there).
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        let sample = [min(2, x.shape[0])] + Array(x.shape.dropFirst())
        try checkInput(sample, batch: "first validation batch")
        let output = noGrad { model(x.narrow(dim: 0, start: 0, length: sample[0])) }
        let yShape = [min(2, y.shape[0])] + Array(y.shape.dropFirst())
        let targets = y.narrow(dim: 0, start: 0, length: yShape[0])
        guard output.rank >= 1, output.shape[0] == yShape[0] else {
            throw LearnerError("the model's output \(output.shape) does not have one row per target (targets \(yShape))")
        }
        if output.rank == 2, y.rank == 1, output.shape[1] > 1 {
            // Class scores: every target of the batch must be a class index the output can score.
            try checkClassTargets(output, y, batch: "the first validation batch")
        } else if output.rank >= 3, output.rank == targets.rank + 1, Array(output.shape.dropLast()) == targets.shape {
            // Class scores on the last axis, one per position (a language model's next tokens).
            let classes = output.shape[output.rank - 1]
            if let bad = targets.scalars.first(where: { !($0 >= 0 && $0 < Float(classes) && $0 == $0.rounded()) }) {
                throw LearnerError(
                    "the first validation batch: a target is \(bad), but the model outputs \(classes) scores per position (targets must be 0...\(classes - 1))")
            }
        } else if output.rank >= 3, output.rank == targets.rank + 1, [output.shape[0]] + output.shape[2...] == targets.shape {
            // Class scores per pixel `[N, C, H, W]` against masks `[N, H, W]` of codes `0..<C`.
            let classes = output.shape[1]
            if let bad = y.scalars.first(where: { !($0 >= 0 && $0 < Float(classes) && $0 == $0.rounded()) }) {
                throw LearnerError(
                    "the first validation batch: a mask holds \(bad), but the model outputs \(classes) scores per pixel (codes must be 0...\(classes - 1))")
            }
        } else if output.count != targets.count {
            throw LearnerError("the model's output \(output.shape) and the targets \(yShape) do not fit the loss: they differ in size")
        }
        _ = noGrad { lossFunction(output, targets) }
        for metric in metrics { _ = noGrad { metric.function(output, targets) } }
    }
}

/// The parts of training that callbacks see begin and end, outermost first, with their events
/// and the error that cancels each (fastai's event names).
enum Phase {
    case fit, epoch, train, validate, batch, backward, step

    func before(_ cb: Callback, _ learn: Learner) throws {
        switch self {
        case .fit: try cb.beforeFit(learn)
        case .epoch: try cb.beforeEpoch(learn)
        case .train: try cb.beforeTrain(learn)
        case .validate: try cb.beforeValidate(learn)
        case .batch: try cb.beforeBatch(learn)
        case .backward: try cb.beforeBackward(learn)
        case .step: try cb.beforeStep(learn)
        }
    }

    func after(_ cb: Callback, _ learn: Learner) throws {
        switch self {
        case .fit: try cb.afterFit(learn)
        case .epoch: try cb.afterEpoch(learn)
        case .train: try cb.afterTrain(learn)
        case .validate: try cb.afterValidate(learn)
        case .batch: try cb.afterBatch(learn)
        case .backward: try cb.afterBackward(learn)
        case .step: try cb.afterStep(learn)
        }
    }

    func cancelled(_ cb: Callback, _ learn: Learner) throws {
        switch self {
        case .fit: try cb.afterCancelFit(learn)
        case .epoch: try cb.afterCancelEpoch(learn)
        case .train: try cb.afterCancelTrain(learn)
        case .validate: try cb.afterCancelValidate(learn)
        case .batch: try cb.afterCancelBatch(learn)
        case .backward: try cb.afterCancelBackward(learn)
        case .step: try cb.afterCancelStep(learn)
        }
    }

    /// True for the phases inside a batch, whose events go to callbacks by `runTrain`/`runValid`.
    var isInnerLoop: Bool {
        switch self {
        case .batch, .backward, .step: return true
        case .fit, .epoch, .train, .validate: return false
        }
    }

    func isCancellation(_ error: Error) -> Bool {
        switch self {
        case .fit: return error is CancelFit
        case .epoch: return error is CancelEpoch
        case .train: return error is CancelTrain
        case .validate: return error is CancelValidate
        case .batch: return error is CancelBatch
        case .backward: return error is CancelBackward
        case .step: return error is CancelStep
        }
    }
}

/// Keeps each batch's outputs, targets and (optionally) inputs: `gatherPredictions`'s callback,
/// fastai's `GatherPredsCallback`.
final class GatherPredictions: Callback {
    let withInput: Bool
    private(set) var outputs: [Tensor] = [], targets: [Tensor] = [], inputs: [Tensor] = []

    init(withInput: Bool) { self.withInput = withInput }

    override func afterBatch(_ learn: Learner) throws {
        outputs.append(learn.pred)
        targets.append(learn.yb)
        if withInput { inputs.append(learn.xb) }
    }
}

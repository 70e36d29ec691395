import Tensors

/// Something that takes part in training by reacting to the Learner's events, in fastai's
/// order: beforeFit, beforeEpoch, beforeTrain, beforeBatch, afterPred, afterLoss,
/// beforeBackward, afterBackward, beforeStep, afterStep, afterBatch, afterTrain, beforeValidate,
/// afterValidate, afterEpoch, afterFit.
///
/// A callback sees and may change the Learner's state (`learn.epoch`, `learn.iteration`,
/// `learn.xb`, `learn.pred`, `learn.loss`, `learn.training`, the optimizer's hyper-parameters).
/// It cancels part of training by throwing `CancelBatch`, `CancelStep`, `CancelBackward`,
/// `CancelTrain`, `CancelValidate`, `CancelEpoch` or `CancelFit`: then `afterCancelX` runs,
/// then `afterX`, and training goes on after the cancelled part. Callbacks run in increasing
/// `order`.
open class Callback {
    public init() {}
    /// When this callback runs relative to the others (lower first; the Recorder is 50,
    /// the progress table 60, schedulers 0).
    open var order: Int { 0 }
    /// The callback's name in summaries.
    open var name: String { String(describing: type(of: self)) }
    /// Whether the callback sees the batch events of training batches (fastai's `run_train`).
    open var runTrain: Bool { true }
    /// Whether the callback sees the batch events of validation batches (fastai's `run_valid`).
    open var runValid: Bool { true }
    /// Whether the callback takes part in `getPreds` (its validation events over the items to
    /// predict): true for callbacks that act on predictions, false for those that only record
    /// or report training (the `Recorder`, the progress output).
    open var runPredict: Bool { true }

    open func beforeFit(_ learn: Learner) throws {}
    open func beforeEpoch(_ learn: Learner) throws {}
    open func beforeTrain(_ learn: Learner) throws {}
    open func beforeBatch(_ learn: Learner) throws {}
    open func afterPred(_ learn: Learner) throws {}
    open func afterLoss(_ learn: Learner) throws {}
    open func beforeBackward(_ learn: Learner) throws {}
    open func afterBackward(_ learn: Learner) throws {}
    open func beforeStep(_ learn: Learner) throws {}
    open func afterStep(_ learn: Learner) throws {}
    open func afterBatch(_ learn: Learner) throws {}
    open func afterTrain(_ learn: Learner) throws {}
    open func beforeValidate(_ learn: Learner) throws {}
    open func afterValidate(_ learn: Learner) throws {}
    open func afterEpoch(_ learn: Learner) throws {}
    open func afterFit(_ learn: Learner) throws {}

    open func afterCancelBatch(_ learn: Learner) throws {}
    open func afterCancelStep(_ learn: Learner) throws {}
    open func afterCancelBackward(_ learn: Learner) throws {}
    open func afterCancelTrain(_ learn: Learner) throws {}
    open func afterCancelValidate(_ learn: Learner) throws {}
    open func afterCancelEpoch(_ learn: Learner) throws {}
    open func afterCancelFit(_ learn: Learner) throws {}
}

/// Thrown by a callback to skip the rest of the current batch.
public struct CancelBatch: Error { public init() {} }
/// Thrown by a callback to skip the optimizer step.
public struct CancelStep: Error { public init() {} }
/// Thrown by a callback to skip the backward pass.
public struct CancelBackward: Error { public init() {} }
/// Thrown by a callback to end the training part of the epoch.
public struct CancelTrain: Error { public init() {} }
/// Thrown by a callback to end the validation part of the epoch.
public struct CancelValidate: Error { public init() {} }
/// Thrown by a callback to end the epoch.
public struct CancelEpoch: Error { public init() {} }
/// Thrown by a callback to end training.
public struct CancelFit: Error { public init() {} }

import Autograd
import Foundation
import Tensors

/// Stops training when the loss becomes NaN or infinite (fastai's `TerminateOnNaNCallback`).
public final class TerminateOnNaN: Callback {
    public override func afterBatch(_ learn: Learner) throws {
        guard learn.training else { return }
        if !learn.lossValue.item().isFinite {
            print("TerminateOnNaN: the loss became \(learn.lossValue.item()) at iteration \(learn.iteration); stopping")
            throw CancelFit()
        }
    }
}

/// Scales the gradients so that their global L2 norm is at most `maxNorm` before each step
/// (fastai's `GradientClip`, PyTorch's `clip_grad_norm_`).
public final class GradientClip: Callback {
    public let maxNorm: Float
    public init(maxNorm: Float = 1) { self.maxNorm = maxNorm }

    public override func beforeStep(_ learn: Learner) throws {
        let grads = learn.model.parameters.compactMap(\.grad)
        let norm = grads.reduce(Float(0)) { $0 + $1.square().sum().item() }.squareRoot()
        guard norm > maxNorm else { return }
        let scale = maxNorm / (norm + 1e-6)
        for p in learn.model.parameters { if let g = p.grad { p.grad = g * scale } }
    }
}

/// Picks a recorded value by name (`valid_loss`, `train_loss` or a metric) and says whether a
/// new value improves on the best so far.
public class TrackerCallback: Callback {
    public let monitor: String
    public let minDelta: Float
    /// True when lower is better (losses, error rates); by default, unless the name contains "acc".
    public let lowerIsBetter: Bool
    public private(set) var best: Float?

    public init(monitor: String = "valid_loss", minDelta: Float = 0, lowerIsBetter: Bool? = nil) {
        self.monitor = monitor
        self.minDelta = minDelta
        self.lowerIsBetter = lowerIsBetter ?? !monitor.contains("acc")
    }

    public override var order: Int { 65 }   // after the Recorder and the progress table

    public override func beforeFit(_ learn: Learner) throws { best = nil }

    /// The monitored value of the last epoch; throws when no column has that name.
    func current(_ learn: Learner) throws -> Float {
        guard let column = learn.recorder.metricNames.firstIndex(of: monitor) else {
            throw LearnerError("\(name): nothing named '\(monitor)' is recorded (have \(learn.recorder.metricNames))")
        }
        return learn.recorder.values.last![column]
    }

    /// Updates `best` with `value`; true if it improved.
    func improved(_ value: Float) -> Bool {
        guard let b = best else { best = value; return true }
        let better = lowerIsBetter ? value < b - minDelta : value > b + minDelta
        if better { best = value }
        return better
    }
}

/// Stops training when the monitored value has not improved for `patience` epochs.
public final class EarlyStopping: TrackerCallback {
    public let patience: Int
    private var waited = 0

    public init(monitor: String = "valid_loss", minDelta: Float = 0, patience: Int = 1, lowerIsBetter: Bool? = nil) {
        self.patience = patience
        super.init(monitor: monitor, minDelta: minDelta, lowerIsBetter: lowerIsBetter)
    }

    public override func beforeFit(_ learn: Learner) throws {
        try super.beforeFit(learn)
        waited = 0
    }

    public override func afterEpoch(_ learn: Learner) throws {
        if improved(try current(learn)) { waited = 0; return }
        waited += 1
        if waited >= patience {
            print("EarlyStopping: no improvement in \(monitor) for \(waited) epochs; stopping after epoch \(learn.epoch)")
            throw CancelFit()
        }
    }
}

/// Saves the model (and optimizer) when the monitored value improves, or after every epoch
/// (`everyEpoch`, as `<name>_<epoch>`), and loads the best back at the end of training.
public final class SaveModel: TrackerCallback {
    public let fileName: String
    public let everyEpoch: Bool

    public init(monitor: String = "valid_loss", fileName: String = "model", everyEpoch: Bool = false, lowerIsBetter: Bool? = nil) {
        self.fileName = fileName
        self.everyEpoch = everyEpoch
        super.init(monitor: monitor, lowerIsBetter: lowerIsBetter)
    }

    public override func afterEpoch(_ learn: Learner) throws {
        if everyEpoch {
            try learn.save("\(fileName)_\(learn.epoch)")
        } else if improved(try current(learn)) {
            try learn.save(fileName)
        }
    }

    public override func afterFit(_ learn: Learner) throws {
        if !everyEpoch, best != nil { try learn.load(fileName) }
    }
}

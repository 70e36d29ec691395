import Autograd
import DataBlocks
import Foundation
import Tensors

/// Stops training when the loss becomes NaN or infinite (fastai's `TerminateOnNaNCallback`).
public final class TerminateOnNaN: Callback {
    public override func afterBatch(_ learn: Learner) throws {
        guard learn.training else { return }
        if !learn.loss.item().isFinite {
            print("TerminateOnNaN: the loss became \(learn.loss.item()) at iteration \(learn.iteration); stopping")
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

    public override var order: Int { 65 }  // after the Recorder and the progress table

    /// Epochs since the monitored value last improved (`stalled(_:)` counts them).
    private var waited = 0

    public override func beforeFit(_ learn: Learner) throws {
        best = nil
        waited = 0
    }

    /// After an epoch: how many epochs in a row the monitored value has not improved (0 when
    /// this one improved it).
    func stalled(_ learn: Learner) throws -> Int {
        waited = improved(try current(learn)) ? 0 : waited + 1
        return waited
    }

    /// Starts counting stalled epochs afresh (after acting on them).
    func resetStall() { waited = 0 }

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

    public init(monitor: String = "valid_loss", minDelta: Float = 0, patience: Int = 1, lowerIsBetter: Bool? = nil) {
        self.patience = patience
        super.init(monitor: monitor, minDelta: minDelta, lowerIsBetter: lowerIsBetter)
    }

    public override func afterEpoch(_ learn: Learner) throws {
        let waited = try stalled(learn)
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

/// Divides the learning rate by `factor` when the monitored value has not improved for
/// `patience` epochs, down to `minLR` (fastai's `ReduceLROnPlateau`). Meant for `fit`: a
/// one-cycle schedule sets the rate itself every batch.
public final class ReduceLROnPlateau: TrackerCallback {
    public let patience: Int, factor: Float, minLR: Float

    public init(
        monitor: String = "valid_loss", minDelta: Float = 0, patience: Int = 1, factor: Float = 10, minLR: Float = 0,
        lowerIsBetter: Bool? = nil
    ) {
        self.patience = patience
        self.factor = factor
        self.minLR = minLR
        super.init(monitor: monitor, minDelta: minDelta, lowerIsBetter: lowerIsBetter)
    }

    public override func afterEpoch(_ learn: Learner) throws {
        let waited = try stalled(learn)
        guard waited >= patience, let opt = learn.opt, factor > 0 else { return }
        // Every group's rate, as fastai's: divided by `factor`, not below `minLR`.
        let old = opt.values(\.lr), reduced = old.map { max($0 / factor, minLR) }
        if reduced != old {
            print("ReduceLROnPlateau: no improvement in \(monitor) for \(waited) epochs; learning rate \(opt.lr) → \(reduced[reduced.count - 1])")
            opt.set(\.lr, reduced)
        }
        resetStall()
    }
}

/// Writes the table of each epoch to a CSV file as training goes (fastai's `CSVLogger`):
/// `epoch,train_loss,valid_loss,<metrics>,time`, one row per epoch, the file rewritten whole
/// (through a temporary file) after each, so it is never half written. With `append`, rows
/// follow those already in the file.
public final class CSVLogger: Callback {
    public let file: URL
    public let append: Bool
    private var lines: [String] = []
    private var epochStart = Date()

    public init(_ file: URL = URL(fileURLWithPath: "history.csv"), append: Bool = false) {
        self.file = file
        self.append = append
    }

    public override var order: Int { 60 }  // after the Recorder has the epoch's values

    public override func beforeFit(_ learn: Learner) throws {
        let header = (["epoch"] + learn.recorder.metricNames + ["time"]).joined(separator: ",")
        if append, let existing = try? String(contentsOf: file, encoding: .utf8), !existing.isEmpty {
            lines = existing.split(separator: "\n").map(String.init)
        } else {
            lines = [header]
        }
    }

    public override func beforeEpoch(_ learn: Learner) throws { epochStart = Date() }

    public override func afterEpoch(_ learn: Learner) throws {
        guard let values = learn.recorder.values.last else { return }
        let seconds = Int(Date().timeIntervalSince(epochStart))
        let time = String(format: "%02d:%02d", seconds / 60, seconds % 60)
        lines.append((["\(learn.epoch)"] + values.map { String(format: "%.6f", $0) } + [time]).joined(separator: ","))
        try writeFileReplacing(file, with: Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// Redraws the training and validation losses as an SVG after every epoch (fastai's
/// `ShowGraphCallback`, as a file: open it in a browser and reload).
public final class ShowGraph: Callback {
    public let file: URL
    public init(_ file: URL = URL(fileURLWithPath: "losses.svg")) { self.file = file }
    public override var order: Int { 60 }
    public override func afterEpoch(_ learn: Learner) throws { try learn.recorder.plotLoss(to: file) }
}

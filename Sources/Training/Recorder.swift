import Foundation
import Tensors

/// Records training as it goes (fastai's `Recorder`): every training batch's loss, the
/// smoothed loss (exponential moving average, β = 0.98, debiased), the learning rate and
/// momentum of every batch, and per epoch the training loss (as fastai: the smoothed loss at
/// the epoch's end), the validation loss and the metrics.
public final class Recorder: Callback {
    public override var order: Int { 50 }
    /// It records (or reports) training and validation, not `getPreds`.
    public override var runPredict: Bool { false }
    /// The smoothing factor of `smoothLosses`.
    public var beta = 0.98

    public private(set) var losses: [Float] = []
    public private(set) var smoothLosses: [Float] = []
    public private(set) var lrs: [Float] = []
    public private(set) var moms: [Float] = []
    /// Per epoch: [train_loss, valid_loss, metrics...].
    public private(set) var values: [[Float]] = []
    /// The column names of `values`.
    public private(set) var metricNames: [String] = []
    /// The last validation: [valid_loss, metrics...].
    public private(set) var lastValidation: [Float] = []

    private var average = 0.0, count = 0
    /// The plain average of this epoch's training losses (used when no batch was recorded).
    private var trainTotal = 0.0, trainCount = 0
    private var validTotal = 0.0, metricTotals: [Double] = [], validCount = 0
    /// The validation predictions and targets, kept when a metric accumulates.
    private var gathered: [(Tensor, Tensor)] = []
    /// How validation results combine across processes (set by `DistributedDataParallel`):
    /// `sum` adds arrays element-wise over the processes, `gather` concatenates them in rank
    /// order. Then every process reports the whole validation set's loss and metrics.
    public var crossProcess: (sum: ([Double]) -> [Double], gather: ([Float]) -> [Float])?

    public override func beforeFit(_ learn: Learner) throws {
        losses = []; smoothLosses = []; lrs = []; moms = []; values = []
        (average, count) = learn.resumedSmoothing ?? (0, 0)
        metricNames = ["train_loss", "valid_loss"] + learn.metrics.map(\.name)
    }

    public override func beforeTrain(_ learn: Learner) throws { trainTotal = 0; trainCount = 0 }

    /// The running average behind the smoothed training loss, and the batches in it: saved in
    /// checkpoints so a resumed fit prints the losses the uninterrupted one would.
    var smoothing: (average: Double, count: Int) { (average, count) }

    public override func afterBatch(_ learn: Learner) throws {
        let n = learn.yb.shape.first ?? 1
        let value = learn.loss.item()
        if learn.training {
            losses.append(value)
            count += 1
            average = beta * average + (1 - beta) * Double(value)
            smoothLosses.append(Float(average / (1 - Foundation.pow(beta, Double(count)))))
            lrs.append(learn.opt?.lr ?? 0)
            moms.append(learn.opt?.groups.last?.hypers.momentum ?? 0)
            trainTotal += Double(value) * Double(n)
            trainCount += n
        } else {
            validTotal += Double(value) * Double(n)
            for (i, metric) in learn.metrics.enumerated() where !metric.accumulates {
                metricTotals[i] += Double(metric.function(learn.pred, learn.yb)) * Double(n)
            }
            if learn.metrics.contains(where: \.accumulates) { gathered.append((learn.pred, learn.yb)) }
            validCount += n
        }
    }

    public override func beforeValidate(_ learn: Learner) throws {
        validTotal = 0; validCount = 0
        metricTotals = learn.metrics.map { _ in 0 }
        gathered = []
    }

    public override func afterValidate(_ learn: Learner) throws {
        if let crossProcess {
            let totals = crossProcess.sum([validTotal, Double(validCount)] + metricTotals)
            validTotal = totals[0]
            validCount = Int(totals[1])
            metricTotals = Array(totals[2...])
        }
        let n = Double(max(validCount, 1))
        if learn.metrics.contains(where: \.accumulates) {
            var (predictions, targets) =
                gathered.isEmpty
                ? (Tensor.zeros([0]), Tensor.zeros([0]))
                : (Tensor.cat(gathered.map(\.0)), Tensor.cat(gathered.map(\.1)))
            if let crossProcess {
                // Every process runs the same model: its width, from those that predicted anything.
                let width = predictions.rank == 2 ? predictions.shape[1] : 0
                let widths = crossProcess.sum([Double(width), width > 0 ? 1 : 0])
                let columns = widths[1] > 0 ? max(Int(widths[0] / widths[1]), 1) : 1
                let all = crossProcess.gather(predictions.scalars), allTargets = crossProcess.gather(targets.scalars)
                predictions = Tensor(shape: [all.count / columns, columns], scalars: all)
                targets = Tensor(allTargets)
            }
            for (i, metric) in learn.metrics.enumerated() where metric.accumulates {
                metricTotals[i] = predictions.count > 0 ? Double(metric.function(predictions, targets)) * n : 0
            }
            gathered = []
        }
        lastValidation =
            [Float(validTotal / n)] + zip(learn.metrics, metricTotals).map { metric, total in metric.finalize.map { $0(Float(total / n)) } ?? Float(total / n) }
    }

    public override func afterEpoch(_ learn: Learner) throws {
        let trainLoss = smoothLosses.last ?? Float(trainTotal / Double(max(trainCount, 1)))
        values.append([trainLoss] + lastValidation)
    }

    /// The smoothed training loss by batch (and the validation loss by epoch), as an SVG chart.
    public func plotLoss(to file: URL) throws {
        var chart = SVGChart(title: "Loss", xLabel: "batch", yLabel: "loss")
        chart.line(Array(0..<smoothLosses.count).map(Double.init), smoothLosses, label: "train (smoothed)")
        if !values.isEmpty, !losses.isEmpty {
            let perEpoch = Double(losses.count) / Double(values.count)
            chart.line(values.indices.map { Double($0 + 1) * perEpoch - 1 }, values.map { $0[1] }, label: "valid")
        }
        try chart.write(to: file)
    }

    /// The learning rate and momentum by batch, as an SVG chart.
    public func plotSched(to file: URL) throws {
        var chart = SVGChart(title: "Schedule", xLabel: "batch", yLabel: "value")
        let xs = Array(0..<lrs.count).map(Double.init)
        let maxLR = max(lrs.max() ?? 1, 1e-12)
        chart.line(xs, lrs.map { $0 / maxLR }, label: "lr / \(maxLR)")
        chart.line(xs, moms, label: "momentum")
        try chart.write(to: file)
    }
}

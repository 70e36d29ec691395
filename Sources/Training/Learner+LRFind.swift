import Autograd
import Foundation
import Layers
import Optimizers
import Tensors

/// What `lrFind` found: the rates tried, their smoothed losses, and fastai's three suggestions.
public struct LRFinderResult {
    public let lrs: [Float]
    public let losses: [Float]
    /// fastai's "valley" suggestion (the default): a third into the longest falling stretch.
    public let valley: Float
    /// fastai's "minimum": a tenth of the rate with the lowest loss.
    public let minimum: Float
    /// fastai's "steep": the rate where the loss falls fastest against log(rate).
    public let steep: Float
}

extension Learner {
    /// fastai's learning-rate finder: a fit whose learning rate grows exponentially from
    /// `startLR` to `endLR` over `iterations` steps (an `LRFinder` callback scheduling it), ended
    /// once the recorder's smoothed loss passes 4× its best; then the model and optimizer are put
    /// back as they were. Suggests rates by fastai's valley, minimum and steep rules. With
    /// `plot`, writes the loss against the rate as an SVG. Works on frozen and unfrozen models.
    public func lrFind(startLR: Float = 1e-7, endLR: Float = 10, iterations: Int = 100, plot: URL? = nil) throws -> LRFinderResult {
        try exclusively { try lrFindHoldingLock(startLR: startLR, endLR: endLR, iterations: iterations, plot: plot) }
    }

    private func lrFindHoldingLock(startLR: Float, endLR: Float, iterations: Int, plot: URL?) throws -> LRFinderResult {
        try checkTrainingBatches()
        let finder = LRFinder(startLR: startLR, endLR: endLR, iterations: iterations)
        let showing = progress.show
        progress.show = false
        defer { progress.show = showing }
        try fit(epochs: iterations / dls.train.count + 1, lr: startLR, cbs: [finder])
        let (lrs, losses) = (recorder.lrs, recorder.smoothLosses)
        // As fastai, the suggestions look at the points after the first tenth of the requested
        // iterations and before the last 5 (where the loss shoots up).
        let end = max(2, lrs.count - 5), start = min(iterations / 10, max(end - 2, 0))
        let (windowLRs, windowLosses) = (Array(lrs[start..<min(end, lrs.count)]), Array(losses[start..<min(end, losses.count)]))
        let valley = valleySuggestion(lrs: windowLRs, losses: windowLosses)
        let lowest = windowLosses.indices.min { windowLosses[$0] < windowLosses[$1] } ?? 0
        let minimum = (windowLRs.isEmpty ? startLR : windowLRs[lowest]) / 10
        let slopes =
            windowLRs.count > 1
            ? (1..<windowLRs.count).map { i in
                (windowLosses[i] - windowLosses[i - 1]) / (log(windowLRs[i]) - log(windowLRs[i - 1]))
            } : []
        let steepest = slopes.indices.min { slopes[$0] < slopes[$1] } ?? 0
        let steep = windowLRs.isEmpty ? startLR : windowLRs[steepest]
        if let plot {
            var chart = SVGChart(title: "Learning rate finder (valley: \(valley))", xLabel: "learning rate", yLabel: "smoothed loss")
            chart.logX = true
            chart.line(lrs, losses, label: "loss")
            chart.scatter([valley], [losses[lrs.firstIndex(of: valley) ?? 0]], label: "valley", colour: "#d62728")
            try chart.write(to: plot)
        }
        return LRFinderResult(lrs: lrs, losses: losses, valley: valley, minimum: minimum, steep: steep)
    }
}

/// fastai's `LRFinder`: a scheduler callback for `lrFind`'s fit. Before each training batch the
/// learning rate is `startLR · (endLR / startLR)^(i / iterations)`; after it, the fit ends at
/// `iterations` steps or when the recorder's smoothed loss is not finite or passes 4× its best.
/// Validation is skipped, and the model and optimizer are restored when the fit ends.
public final class LRFinder: Callback {
    public let startLR: Float, endLR: Float, iterations: Int
    private var best = Float.infinity
    private var savedModel: [String: Tensor] = [:], savedOptimizer: [String: Tensor]?, savedLRs: [Float] = []

    public init(startLR: Float = 1e-7, endLR: Float = 10, iterations: Int = 100) {
        self.startLR = startLR
        self.endLR = endLR
        self.iterations = iterations
    }

    /// After the Recorder, whose smoothed loss it reads.
    public override var order: Int { 55 }

    public override func beforeFit(_ learn: Learner) throws {
        best = .infinity
        savedModel = learn.model.stateDict()
        savedOptimizer = learn.opt?.stateDict()
        savedLRs = learn.opt?.values(\.lr) ?? []
    }

    public override func beforeBatch(_ learn: Learner) throws {
        guard learn.training, let opt = learn.opt else { return }
        opt.lr = Float(Double(startLR) * pow(Double(endLR) / Double(startLR), Double(learn.iteration) / Double(max(iterations, 1))))
    }

    public override func afterBatch(_ learn: Learner) throws {
        guard learn.training, let smooth = learn.recorder.smoothLosses.last else { return }
        if smooth.isFinite { best = min(best, smooth) }
        if learn.iteration + 1 >= iterations || !smooth.isFinite || smooth > 4 * best { throw CancelFit() }
    }

    public override func beforeValidate(_ learn: Learner) throws { throw CancelValidate() }

    public override func afterFit(_ learn: Learner) throws {
        try learn.model.loadStateDict(savedModel)
        if let opt = learn.opt {
            if let savedOptimizer { try opt.loadStateDict(savedOptimizer) }
            if !savedLRs.isEmpty { opt.set(\.lr, savedLRs) }
        }
        learn.model.zeroGradients()
    }
}

/// fastai's `valley` rule, step for step: the longest decreasing run of the loss curve (as a
/// longest-decreasing-subsequence), then the rate a third plus half a third of the way into it.
func valleySuggestion(lrs: [Float], losses: [Float]) -> Float {
    let n = losses.count
    guard n > 1 else { return lrs.first ?? 0 }
    var lengths = [Int](repeating: 1, count: n)
    var maxStart = 0, maxEnd = 0
    for i in 1..<n {
        for j in 0..<i {
            if losses[i] < losses[j] && lengths[i] < lengths[j] + 1 { lengths[i] = lengths[j] + 1 }
            if lengths[maxEnd] < lengths[i] {
                maxEnd = i
                maxStart = maxEnd - lengths[maxEnd]
            }
        }
    }
    let sections = Double(maxEnd - maxStart) / 3
    let index = maxStart + Int(sections) + Int(sections / 2)
    return lrs[min(max(index, 0), n - 1)]
}

extension Module {
    /// Clears every parameter's gradient.
    func zeroGradients() { for p in parameters { p.zeroGrad() } }
}

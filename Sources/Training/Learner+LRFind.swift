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
    /// fastai's learning-rate finder: trains on successive batches while the learning rate grows
    /// exponentially from `startLR` to `endLR` over `iterations` steps, stops once the smoothed
    /// loss passes 4× its best, suggests a rate by the "valley" rule, and restores the model and
    /// optimizer as they were. With `plot`, writes the loss against the rate as an SVG.
    public func lrFind(startLR: Float = 1e-7, endLR: Float = 10, iterations: Int = 100, plot: URL? = nil) throws -> LRFinderResult {
        try checkTrainingBatches()
        if opt == nil { makeOptimizer(lr: startLR) }
        let savedModel = model.stateDict(), savedOpt = opt!.stateDict(), savedLR = opt!.lr
        defer {
            try? model.loadStateDict(savedModel)
            try? opt!.loadStateDict(savedOpt)
            opt!.lr = savedLR
            model.zeroGradients()
        }
        model.train()
        var lrs: [Float] = [], losses: [Float] = []
        var average = 0.0, best = Double.infinity
        var step = 0
        outer: while step < iterations {
            for (x, y) in dls.train {
                let lr = Double(startLR) * Foundation.pow(Double(endLR) / Double(startLR), Double(step) / Double(iterations))
                opt!.lr = Float(lr)
                let loss = lossFunction(model(x), y)
                loss.backward()
                opt!.step()
                opt!.zeroGrad()
                average = 0.98 * average + 0.02 * Double(loss.item())
                let smooth = average / (1 - Foundation.pow(0.98, Double(step + 1)))
                lrs.append(Float(lr))
                losses.append(Float(smooth))
                step += 1
                if smooth.isFinite { best = min(best, smooth) }
                if step >= iterations || !smooth.isFinite || smooth > 4 * best { break outer }
            }
        }
        // As fastai, the suggestions look at the points after the first tenth of the requested
        // iterations and before the last 5 (where the loss shoots up).
        let end = max(2, lrs.count - 5), start = min(iterations / 10, max(end - 2, 0))
        let (windowLRs, windowLosses) = (Array(lrs[start..<end]), Array(losses[start..<end]))
        let valley = valleySuggestion(lrs: windowLRs, losses: windowLosses)
        let lowest = windowLosses.indices.min { windowLosses[$0] < windowLosses[$1] } ?? 0
        let minimum = (windowLRs.isEmpty ? startLR : windowLRs[lowest]) / 10
        let slopes = windowLRs.count > 1 ? (1..<windowLRs.count).map { i in
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

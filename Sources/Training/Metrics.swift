import Foundation
import Layers
import Tensors

/// A metric: a name and a function of a batch's predictions and targets, averaged over the
/// whole validation set weighted by batch size (a short last batch counts by its size).
///
///     let batchAccuracy = Metric("batch_accuracy") { p, y in ((p.sigmoid() .> 0.5) .== y).mean().item() }
public struct Metric {
    public let name: String
    public let function: (Tensor, Tensor) -> Float
    /// Whether `function` is given the whole validation set's predictions and targets at once
    /// (fastai's `AccumMetric`, for F1 and the like, which do not average over batches).
    public let accumulates: Bool
    /// Applied to the validation average before it is shown (perplexity's `exp`).
    public let finalize: (@Sendable (Float) -> Float)?

    public init(_ name: String, _ function: @escaping (Tensor, Tensor) -> Float) {
        self.name = name
        self.function = function
        accumulates = false
        finalize = nil
    }

    /// A metric averaged over the validation batches, then passed through `finalize`
    /// (perplexity: the exponential of the average cross-entropy).
    public init(_ name: String, _ function: @escaping (Tensor, Tensor) -> Float, finalize: @escaping @Sendable (Float) -> Float) {
        self.name = name
        self.function = function
        accumulates = false
        self.finalize = finalize
    }

    /// A metric of all the validation predictions and targets together.
    public init(_ name: String, accumulating function: @escaping (Tensor, Tensor) -> Float) {
        self.name = name
        self.function = function
        accumulates = true
        finalize = nil
    }
}

/// The share of rows whose highest score is the target class.
public var accuracy: Metric {
    Metric("accuracy") { predictions, targets in (predictions.argmax(dim: -1).reshape([-1]) .== targets.reshape([-1])).mean().item() }
}

/// The exponential of the average cross-entropy over the validation set (fastai's `Perplexity`):
/// a language model's effective number of choices per token. Scores on the last axis.
public var perplexity: Metric {
    Metric(
        "perplexity", { predictions, targets in CrossEntropyLossFlat()(predictions, targets).item() }, finalize: { Foundation.exp($0) })
}

/// 1 - accuracy.
public var errorRate: Metric {
    Metric("error_rate") { predictions, targets in 1 - (predictions.argmax(dim: -1).reshape([-1]) .== targets.reshape([-1])).mean().item() }
}

/// The share of rows whose target is among the `k` highest scores (fastai's `top_k_accuracy`).
public func topKAccuracy(k: Int = 5) -> Metric {
    Metric("top_k_accuracy") { predictions, targets in
        guard predictions.rank == 2, predictions.shape[0] > 0 else { return 0 }
        let (n, c) = (predictions.shape[0], predictions.shape[1])
        let scores = predictions.scalars, y = targets.reshape([-1]).indices()
        var hits = 0
        for i in 0..<n where y[i] >= 0 && y[i] < c {
            let target = scores[i * c + y[i]]
            // Ahead of the target: higher scores, and equal ones at lower indices (as torch.topk).
            let ahead = (0..<c).filter { j in scores[i * c + j] > target || (scores[i * c + j] == target && j < y[i]) }.count
            if ahead < k { hits += 1 }
        }
        return Float(hits) / Float(n)
    }
}

/// Per class: true positives, predicted count and actual count, from whole-set predictions.
private func classCounts(_ predictions: Tensor, _ targets: Tensor) -> (tp: [Int], predicted: [Int], actual: [Int]) {
    let c = predictions.rank == 2 ? predictions.shape[1] : 0
    var tp = [Int](repeating: 0, count: c), predicted = tp, actual = tp
    guard c > 0 else { return (tp, predicted, actual) }
    for (p, a) in zip(predictions.argmax(dim: -1).indices(), targets.reshape([-1]).indices()) where a >= 0 && a < c {
        predicted[p] += 1
        actual[a] += 1
        if p == a { tp[p] += 1 }
    }
    return (tp, predicted, actual)
}

/// The mean over classes of `numerators[i] / denominators[i]` (0 where the denominator is 0).
private func macroAverage(_ numerators: [Int], _ denominators: [Int]) -> Float {
    guard !numerators.isEmpty else { return 0 }
    var total = 0.0
    for (n, d) in zip(numerators, denominators) where d > 0 { total += Double(n) / Double(d) }
    return Float(total / Double(numerators.count))
}

/// Macro-averaged precision over the classes (scikit-learn's `precision_score(average='macro')`,
/// fastai's `Precision(average='macro')`); a class never predicted counts 0.
public var precision: Metric {
    Metric(
        "precision_score",
        accumulating: { p, y in
            let (tp, predicted, _) = classCounts(p, y)
            return macroAverage(tp, predicted)
        })
}

/// Macro-averaged recall over the classes (`recall_score(average='macro')`).
public var recall: Metric {
    Metric(
        "recall_score",
        accumulating: { p, y in
            let (tp, _, actual) = classCounts(p, y)
            return macroAverage(tp, actual)
        })
}

/// Macro-averaged F1 over the classes (`f1_score(average='macro')`, fastai's `F1Score`): each
/// class's `2·tp / (predicted + actual)`, averaged.
public var f1Score: Metric {
    Metric(
        "f1_score",
        accumulating: { p, y in
            let (tp, predicted, actual) = classCounts(p, y)
            guard !tp.isEmpty else { return 0 }
            let scores = tp.indices.map { i in predicted[i] + actual[i] == 0 ? 0 : 2 * Double(tp[i]) / Double(predicted[i] + actual[i]) }
            return Float(scores.reduce(0, +) / Double(scores.count))
        })
}

/// A metric of a regression's whole validation set: `value` of the predictions and targets as two
/// flat arrays of the same length (outputs `[N, 1]` or `[N]` against targets `[N]`), NaN when they
/// differ in length.
private func regressionMetric(_ name: String, _ value: @escaping ([Double], [Double]) -> Double) -> Metric {
    Metric(
        name,
        accumulating: { predictions, targets in
            let p = predictions.scalars.map(Double.init), y = targets.scalars.map(Double.init)
            return p.count == y.count && !p.isEmpty ? Float(value(p, y)) : .nan
        })
}

/// The root of the mean squared error over the whole validation set (fastai's `rmse`).
public var rmse: Metric {
    regressionMetric("_rmse") { p, y in (zip(p, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.count)).squareRoot() }
}

/// The mean absolute error (fastai's `mae`).
public var mae: Metric {
    regressionMetric("mae") { p, y in zip(p, y).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(p.count) }
}

/// The coefficient of determination, `1 - Σ(y - p)² / Σ(y - ȳ)²` (fastai's `R2Score`, scikit-learn's
/// `r2_score`).
public var r2Score: Metric {
    regressionMetric("r2_score") { p, y in
        let mean = y.reduce(0, +) / Double(y.count)
        let residual = zip(p, y).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) }
        let total = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return total == 0 ? (residual == 0 ? 1 : 0) : 1 - residual / total
    }
}

/// The root mean squared percentage error of `exp` of predictions and targets (fastai's
/// `exp_rmspe`, for models of a logarithm such as Rossmann's sales).
public var expRMSPE: Metric {
    regressionMetric("_exp_rmspe") { p, y in
        let terms = zip(p, y).map { (exp($0.1) - exp($0.0)) / exp($0.1) }
        return (terms.reduce(0) { $0 + $1 * $1 } / Double(terms.count)).squareRoot()
    }
}

/// The share of labels predicted right, over every item and every class, for outputs and
/// one-hot targets of the same size (fastai's `accuracy_multi`): a label is predicted where
/// the output (through a sigmoid when `sigmoid`) exceeds `threshold`.
public func accuracyMulti(threshold: Float = 0.5, sigmoid: Bool = true) -> Metric {
    Metric("accuracy_multi") { outputs, targets in
        guard outputs.count == targets.count, outputs.count > 0 else { return .nan }
        let p = sigmoid ? outputs.sigmoid() : outputs
        return ((p .> threshold) .== (targets.reshape(p.shape) .> 0.5)).mean().item()
    }
}

/// Macro-averaged F1 over the labels of a multi-label classifier (fastai's `F1ScoreMulti`,
/// scikit-learn's `f1_score(average='macro')` on label indicators): each class's
/// `2·tp / (2·tp + fp + fn)` over the whole validation set (0 for a class neither predicted
/// nor present), averaged over the classes. Outputs `[N, classes]` (logits, through a sigmoid
/// when `sigmoid`) against one-hot targets; a label is predicted where the probability reaches
/// `threshold` (fastai's `>=` here, where `accuracy_multi` takes `>`).
public func f1ScoreMulti(threshold: Float = 0.5, sigmoid: Bool = true) -> Metric {
    Metric(
        "f1_score",
        accumulating: { outputs, targets in
            guard outputs.rank == 2, outputs.count == targets.count, outputs.count > 0 else { return .nan }
            let (n, c) = (outputs.shape[0], outputs.shape[1])
            let p = (sigmoid ? outputs.sigmoid() : outputs).scalars, y = targets.scalars
            var scores = 0.0
            for k in 0..<c {
                var tp = 0, fp = 0, fn = 0
                for i in 0..<n {
                    let predicted = p[i * c + k] >= threshold, actual = y[i * c + k] > 0.5
                    if predicted && actual { tp += 1 } else if predicted { fp += 1 } else if actual { fn += 1 }
                }
                if tp + fp + fn > 0 { scores += 2 * Double(tp) / Double(2 * tp + fp + fn) }
            }
            return Float(scores / Double(c))
        })
}

/// The share of pixels right among those whose target is not the background (fastai's
/// `foreground_acc`): scores `[N, codes, H, W]` against masks `[N, H, W]`, the predicted code
/// being the most likely on `axis`.
public func foregroundAccuracy(background: Int = 0, axis: Int = 1) -> Metric {
    Metric("foreground_acc") { outputs, targets in
        let predicted = outputs.argmax(dim: axis).scalars, actual = targets.scalars
        guard predicted.count == actual.count else { return .nan }
        var right = 0, counted = 0
        for (p, a) in zip(predicted, actual) where Int(a) != background {
            counted += 1
            if p == a { right += 1 }
        }
        return counted == 0 ? .nan : Float(right) / Float(counted)
    }
}

/// The overlap counts of fastai's binary segmentation metrics over the whole validation set:
/// with `p` the predicted code (the most likely on `axis`) and `t` the target code, the sums of
/// `p·t` (the intersection) and of `p + t`.
private func overlap(_ outputs: Tensor, _ targets: Tensor, axis: Int) -> (intersection: Double, sum: Double)? {
    let predicted = outputs.argmax(dim: axis).scalars, actual = targets.scalars
    guard predicted.count == actual.count else { return nil }
    var intersection = 0.0, sum = 0.0
    for (p, t) in zip(predicted, actual) {
        intersection += Double(p * t)
        sum += Double(p + t)
    }
    return (intersection, sum)
}

/// The Dice coefficient of a binary segmentation (fastai's `Dice`): `2·|P ∩ T| / (|P| + |T|)`
/// over the whole validation set, for scores `[N, 2, H, W]` against masks of 0 and 1.
public func dice(axis: Int = 1) -> Metric {
    Metric(
        "dice",
        accumulating: { outputs, targets in
            guard let (intersection, sum) = overlap(outputs, targets, axis: axis), sum > 0 else { return .nan }
            return Float(2 * intersection / sum)
        })
}

/// The Jaccard coefficient (intersection over union) of a binary segmentation (fastai's
/// `JaccardCoeff`): `|P ∩ T| / |P ∪ T|` over the whole validation set.
public func jaccardCoeff(axis: Int = 1) -> Metric {
    Metric(
        "jaccard_coeff",
        accumulating: { outputs, targets in
            guard let (intersection, sum) = overlap(outputs, targets, axis: axis), sum - intersection > 0 else { return .nan }
            return Float(intersection / (sum - intersection))
        })
}

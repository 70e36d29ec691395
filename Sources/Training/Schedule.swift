import Foundation

/// A schedule: a value for each position `0...1` through training.
public typealias Schedule = @Sendable (Double) -> Double

/// fastai's `SchedCos`: from `start` to `end` along half a cosine.
public func scheduleCos(_ start: Double, _ end: Double) -> Schedule {
    { pos in start + (1 + cos(Double.pi * (1 - pos))) * (end - start) / 2 }
}

/// fastai's `combined_cos`: cosine from `start` to `middle` over the first `pctStart` of
/// training, then from `middle` to `end`.
public func combinedCos(pctStart: Double, _ start: Double, _ middle: Double, _ end: Double) -> Schedule {
    let first = scheduleCos(start, middle), second = scheduleCos(middle, end)
    return { pos in pos < pctStart ? first(pos / pctStart) : second((pos - pctStart) / (1 - pctStart)) }
}

/// Sets optimizer hyper-parameters from schedules before every training batch (fastai's
/// `ParamScheduler`): `"lr"`, `"mom"` (SGD momentum or Adam's β1) and `"wd"`.
public final class ParamScheduler: Callback {
    public let schedules: [String: Schedule]

    public init(_ schedules: [String: Schedule]) {
        for key in schedules.keys { precondition(["lr", "mom", "wd"].contains(key), "ParamScheduler: unknown hyper-parameter '\(key)'") }
        self.schedules = schedules
    }

    public override func beforeBatch(_ learn: Learner) throws {
        guard learn.training, let opt = learn.opt else { return }
        let pos = learn.pctTrain
        if let lr = schedules["lr"] { opt.lr = Float(lr(pos)) }
        if let mom = schedules["mom"] { opt.momentum = Float(mom(pos)) }
        if let wd = schedules["wd"] { opt.weightDecay = Float(wd(pos)) }
    }
}

extension Learner {
    /// fastai's `fit_one_cycle`: the learning rate rises along a cosine from `lrMax / div` to
    /// `lrMax` over the first `pctStart` of the steps, then falls to `lrMax / divFinal`;
    /// momentum goes 0.95 → 0.85 → 0.95 (SGD momentum or Adam's β1). A `ParamScheduler` run by
    /// `fit`, as in fastai.
    ///
    /// - Parameters:
    ///   - epochs: passes over the training set.
    ///   - lrMax: the peak learning rate.
    ///   - div: the starting rate is `lrMax / div`.
    ///   - divFinal: the final rate is `lrMax / divFinal`.
    ///   - pctStart: the fraction of the steps spent rising.
    ///   - moms: momentum at the start, the peak and the end.
    ///   - cbs: callbacks for this fit only.
    ///   - resume: a checkpoint to continue from (see `fit`).
    public func fitOneCycle(
        epochs: Int, lrMax: Float, div: Double = 25, divFinal: Double = 1e5, pctStart: Double = 0.25,
        moms: (Double, Double, Double) = (0.95, 0.85, 0.95), cbs: [Callback] = [], resume: URL? = nil
    ) throws {
        let lr = Double(lrMax)
        let scheduler = ParamScheduler([
            "lr": combinedCos(pctStart: pctStart, lr / div, lr, lr / divFinal),
            "mom": combinedCos(pctStart: pctStart, moms.0, moms.1, moms.2),
        ])
        try fit(epochs: epochs, lr: Float(lr / div), cbs: [scheduler] + cbs, resume: resume)
    }
}

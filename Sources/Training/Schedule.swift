import Foundation
import Optimizers

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
/// `ParamScheduler`), by key path: `ParamScheduler([\.lr: scheduleCos(1e-3, 1e-5)])`. One
/// schedule sets every parameter group; `perGroup` gives each group its own (discriminative rates).
public final class ParamScheduler: Callback {
    /// Each scheduled hyper-parameter's schedules: one for every group, or one per group.
    public let schedules: [Hyperparameter: [Schedule]]

    /// The same schedule for every parameter group.
    public init(_ schedules: [Hyperparameter: Schedule]) {
        self.schedules = schedules.mapValues { [$0] }
    }

    /// A schedule per parameter group, first to last (or one for all of them).
    public init(perGroup schedules: [Hyperparameter: [Schedule]]) {
        self.schedules = schedules
    }

    public override func beforeFit(_ learn: Learner) throws {
        guard let opt = learn.opt else { return }
        for (key, list) in schedules where list.count != 1 && list.count != opt.groups.count {
            throw LearnerError("ParamScheduler: \(list.count) schedules of \(key) for \(opt.groups.count) parameter groups")
        }
    }

    public override func beforeBatch(_ learn: Learner) throws {
        guard learn.training, let opt = learn.opt else { return }
        let pos = learn.pctTrain
        for (key, list) in schedules { opt.set(key, list.map { Float($0(pos)) }) }
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
    ///   - moms: momentum at the start, the peak and the end (the learner's `moms` when nil).
    ///   - cbs: callbacks for this fit only.
    ///   - resume: a checkpoint to continue from (see `fit`).
    ///   - wd: the weight decay from this fit on; nil keeps the optimizer's.
    public func fitOneCycle(
        epochs: Int, lrMax: Float, div: Double = 25, divFinal: Double = 1e5, pctStart: Double = 0.25,
        moms: (Double, Double, Double)? = nil, cbs: [Callback] = [], resume: URL? = nil, wd: Float? = nil
    ) throws {
        try fitOneCycle(
            epochs: epochs, lrs: [lrMax], div: div, divFinal: divFinal, pctStart: pctStart, moms: moms, cbs: cbs, resume: resume, wd: wd)
    }

    /// `fitOneCycle` with a peak learning rate per parameter group (fastai's `lr_max` as an
    /// array: each group's rate follows its own one-cycle curve); `learningRates(_:)` makes them
    /// from a range. One rate: every group's.
    public func fitOneCycle(
        epochs: Int, lrs: [Float], div: Double = 25, divFinal: Double = 1e5, pctStart: Double = 0.25,
        moms: (Double, Double, Double)? = nil, cbs: [Callback] = [], resume: URL? = nil, wd: Float? = nil
    ) throws {
        guard !lrs.isEmpty, lrs.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw LearnerError("fitOneCycle: learning rates must be positive, got \(lrs)")
        }
        let groups = opt?.groups.count ?? parameterGroups.count
        guard lrs.count == 1 || lrs.count == groups else {
            throw LearnerError("fitOneCycle: \(lrs.count) learning rates for \(groups) parameter groups")
        }
        let moms = moms ?? self.moms
        let scheduler = ParamScheduler(perGroup: [
            \.lr: lrs.map { lr in combinedCos(pctStart: pctStart, Double(lr) / div, Double(lr), Double(lr) / divFinal) },
            \.momentum: [combinedCos(pctStart: pctStart, moms.0, moms.1, moms.2)],
        ])
        try fit(epochs: epochs, lrs: lrs.map { Float(Double($0) / div) }, cbs: [scheduler] + cbs, resume: resume, wd: wd)
    }
}

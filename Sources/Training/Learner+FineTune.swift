import Autograd
import Foundation
import Layers
import Optimizers
import Tensors

// Transfer learning as fastai does it: parameter groups, freezing, discriminative learning
// rates and `fine_tune`.

extension Learner {
    /// The model's parameters by group (the `splitter`'s, in order; parameters no group names
    /// join the last group), each parameter once.
    public var parameterGroups: [[Tensor]] {
        var seen = Set<ObjectIdentifier>()
        var groups: [[Tensor]] = splitter(model).map { modules in
            modules.flatMap(\.parameters).filter { p in p.parameterIdentity.map { seen.insert($0).inserted } ?? true }
        }
        if groups.isEmpty { groups = [[]] }
        let rest = model.parameters.filter { p in p.parameterIdentity.map { seen.insert($0).inserted } ?? true }
        groups[groups.count - 1] += rest
        return groups
    }

    /// Freezes the parameter groups before group `n` (counting from the end when negative) and
    /// unfreezes the rest, through the optimizer's groups (fastai's `freeze_to`, which makes the
    /// optimizer if no fit has yet and clears its state): frozen parameters get no gradient and
    /// are not updated, except batch norms' weights and biases, which keep training (`trainBN`).
    public func freezeTo(_ n: Int) {
        let opt = optimizer()
        opt.freezeTo(n)
        opt.clearState()
    }

    /// Freezes every group but the last (the head): fastai's `freeze`.
    public func freeze() { freezeTo(-1) }

    /// Makes every group trainable again: fastai's `unfreeze`.
    public func unfreeze() { freezeTo(0) }

    /// One learning rate per group from a range, as fastai's `slice(lo, hi)`: spaced evenly on a
    /// log scale from `lo` (first group) to `hi` (last).
    public func learningRates(_ range: ClosedRange<Float>) -> [Float] {
        let n = parameterGroups.count
        guard n > 1 else { return [range.upperBound] }
        let step = pow(Double(range.upperBound) / Double(range.lowerBound), 1 / Double(n - 1))
        return (0..<n).map { Float(Double(range.lowerBound) * pow(step, Double($0))) }
    }

    /// fastai's `slice(hi)`: the last group at `hi`, every other group at `hi / 10`.
    public func learningRates(upTo hi: Float) -> [Float] {
        Array(repeating: hi / 10, count: max(parameterGroups.count - 1, 0)) + [hi]
    }

    /// `fitOneCycle` with discriminative learning rates: `lrMax: 1e-5...1e-3` (fastai's
    /// `slice(1e-5, 1e-3)`) spreads them over the parameter groups.
    public func fitOneCycle(
        epochs: Int, lrMax: ClosedRange<Float>, div: Double = 25, divFinal: Double = 1e5, pctStart: Double = 0.25,
        moms: (Double, Double, Double)? = nil, cbs: [Callback] = [], resume: URL? = nil, wd: Float? = nil
    ) throws {
        try fitOneCycle(
            epochs: epochs, lrs: learningRates(lrMax), div: div, divFinal: divFinal, pctStart: pctStart, moms: moms,
            cbs: cbs, resume: resume, wd: wd)
    }

    /// fastai's `fine_tune`: `freezeEpochs` one-cycle epochs with only the head (and batch
    /// norms) training, at `baseLr` for the head and a tenth of it elsewhere (`pctStart` 0.99);
    /// then everything unfrozen for `epochs` one-cycle epochs at `baseLr / 2` for the head, down
    /// to `baseLr / 2 / lrMult` for the first group, with `pctStart` and `div`.
    public func fineTune(
        epochs: Int, baseLr: Float = 2e-3, freezeEpochs: Int = 1, lrMult: Float = 100, pctStart: Double = 0.3,
        div: Double = 5, cbs: [Callback] = []
    ) throws {
        try exclusively {
            freeze()
            try fitOneCycle(epochs: freezeEpochs, lrs: learningRates(upTo: baseLr), pctStart: 0.99, cbs: cbs)
            let half = baseLr / 2
            unfreeze()
            try fitOneCycle(epochs: epochs, lrs: learningRates(half / lrMult...half), div: div, pctStart: pctStart, cbs: cbs)
        }
    }
}

import Autograd
import DataBlocks
import Foundation
import Tensors

/// Everything `getPreds` can return for a dataset (fastai's `get_preds` tuple).
public struct Predictions {
    /// The predictions: the model's outputs through the learner's `outputDecoding` activation
    /// (`[N, classes]` probabilities for classes, softmax or sigmoid; the values for regression).
    public let probabilities: Tensor
    /// The targets: `[N]` classes, `[N, classes]` one-hot label sets, `[N, k]` values.
    public let targets: Tensor
    /// The predictions decoded into the targets' form, with `withDecoded`: `[N]` classes, `[N, classes]` 0/1 label sets, values.
    public let decoded: Tensor?
    /// `[N]` each item's loss, with `withLoss`.
    public let losses: Tensor?
    /// `[N, C, H, W]` the inputs as the model saw them, with `withInput`.
    public let inputs: Tensor?
}

extension Learner {
    /// Predictions for the validation set (or the training set's items in order, with
    /// `training`, or the items of another loader `dl`), in evaluation mode: probabilities and
    /// targets, and on request the decoded classes, each item's loss and the inputs (fastai's
    /// `get_preds(ds_idx=, dl=, with_decoded=, with_loss=, with_input=)`). Runs the validation
    /// loop, with the callbacks that take part in predictions (`Callback.runPredict`).
    public func getPreds(
        training: Bool = false, dl: DataLoader<(Tensor, Tensor)>? = nil, withDecoded: Bool = false, withLoss: Bool = false,
        withInput: Bool = false
    ) throws -> Predictions {
        let loader = dl ?? (training ? dls.train : dls.valid)
        let (raw, y, inputs) = try gatherPredictions(over: loader, withInput: withInput)
        let isScores = raw.rank == 2 && raw.shape[1] > 1
        let decoding = outputDecoding
        let probabilities = noGrad { decoding?.activation(raw) ?? (isScores ? raw.softmax(dim: -1) : raw) }
        var losses: Tensor?
        if withLoss {
            losses = Tensor(noGrad { (0..<raw.shape[0]).map { i in lossFunction(raw[i..<(i + 1)], y[i..<(i + 1)]).item() } })
        }
        return Predictions(
            probabilities: probabilities, targets: y,
            decoded: !withDecoded ? nil : decoding.map { $0.decodes(probabilities) } ?? (isScores ? raw.argmax(dim: -1) : nil),
            losses: losses, inputs: inputs)
    }
}

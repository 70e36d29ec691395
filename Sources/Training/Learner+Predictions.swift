import Autograd
import DataBlocks
import Foundation
import Tensors

/// Everything `getPreds` can return for a dataset (fastai's `get_preds` tuple).
public struct Predictions {
    /// `[N, classes]` probabilities (softmax of the model's outputs; the outputs themselves
    /// when they are not rows of class scores).
    public let probabilities: Tensor
    /// `[N]` targets.
    public let targets: Tensor
    /// `[N]` predicted class indices, with `withDecoded`.
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
        let probabilities = isScores ? noGrad { raw.softmax(dim: -1) } : raw
        var losses: Tensor?
        if withLoss {
            losses = Tensor(noGrad { (0..<raw.shape[0]).map { i in lossFunction(raw[i..<(i + 1)], y[i..<(i + 1)]).item() } })
        }
        return Predictions(
            probabilities: probabilities, targets: y, decoded: withDecoded && isScores ? raw.argmax(dim: -1) : nil,
            losses: losses, inputs: inputs)
    }
}

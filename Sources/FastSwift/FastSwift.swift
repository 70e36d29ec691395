// FastSwift: one import for the whole framework.
//
//     import FastSwift
//
// re-exports every layer, bottom to top: Tensors → Autograd → Layers → Optimizers → Codecs →
// DataBlocks → Training, and the applications above them (Vision, Tabular, Collab).
@_exported import Tensors
@_exported import Autograd
@_exported import Layers
@_exported import Optimizers
@_exported import Codecs
@_exported import DataBlocks
@_exported import Training
@_exported import Vision
@_exported import Tabular
@_exported import Collab
@_exported import Text

import Foundation

/// Loads a file written by `Learner.export` (fastai's `load_learner`) and rebuilds the model it
/// describes: a `visionLearner`'s from its architecture, input channels and vocab, a
/// `tabularLearner`'s from its procs and layers, a `collabLearner`'s from its users, items and
/// factors. For any other model, pass one of the same shape: `loadLearner(file, model:)`.
/// Throws naming the file when it is not an export, or does not describe a model FastSwift can build.
public func loadLearner(_ file: URL) throws -> InferenceLearner {
    try loadLearner(file) { export in
        for rebuild in [visionModel, tabularModel, collabModel] {
            if let model = try rebuild(export) { return model }
        }
        throw LearnerError(
            "\(file.path) is not a visionLearner, tabularLearner or collabLearner export: "
                + "pass the model to load the weights into (loadLearner(file, model:))")
    }
}

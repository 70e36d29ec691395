import Autograd
import DataBlocks
import Foundation
import Layers
import Tensors
import Training

/// How a `TabularModel` was made, kept in an export so `loadLearner` can make it again.
struct TabularModelConfig: Codable, Equatable {
    let embeddingSizes: [[Int]]
    let continuous: Int, outputs: Int
    let layers: [Int]
    let ps: [Float]?
    let embedP: Float
    let yRange: [Float]?

    func model() -> TabularModel {
        TabularModel(
            embeddingSizes: embeddingSizes.map { ($0[0], $0[1]) }, continuous: continuous, outputs: outputs, layers: layers, ps: ps,
            embedP: embedP, yRange: yRange.map { $0[0]...$0[1] })
    }
}

/// The export metadata keys of a tabular learner.
enum TabularExport {
    static let processor = "tabular_processor", model = "tabular_model"
}

/// fastai's `tabular_learner`: a `TabularModel` for the loaders' columns (an embedding per
/// categorical column, sized by `embeddingSizeRule` unless `embSizes` says otherwise), trained with
/// cross-entropy for classes or mean squared error for values (unless `loss` is given).
///
///     let learn = tabularLearner(dls, layers: [200, 100], metrics: [accuracy])
///     try learn.fitOneCycle(epochs: 3, lrMax: 1e-2)
///
/// - Parameters:
///   - dls: the table's loaders (`TabularDataLoaders`), whose processor sizes the model.
///   - layers: the hidden layers' sizes.
///   - embSizes: embedding sizes by column name, overriding the rule.
///   - yRange: squeeze the predicted values into this range (fastai's `y_range`).
///   - ps: dropout after each hidden layer.
///   - embedP: dropout of the embeddings.
///   - loss: the loss (by default cross-entropy for classes, mean squared error for values).
///   - opt: the optimizer (Adam by default, as fastai).
///   - metrics: computed on the validation rows after each epoch.
///   - cbs: callbacks for every fit.
///   - wd: weight decay (by default the Learner's).
public func tabularLearner(
    _ dls: TabularDataLoaders, layers: [Int] = [200, 100], embSizes: [String: Int] = [:], yRange: ClosedRange<Float>? = nil,
    ps: [Float]? = nil, embedP: Float = 0, loss: LossFunction? = nil, opt: OptimizerFactory = .adam, metrics: [Metric] = [],
    cbs: [Callback] = [], wd: Float? = nil
) -> Learner {
    let processor = dls.processor
    let sizes = processor.catNames.map { name -> [Int] in
        let categories = processor.classes[name]?.count ?? 1
        return [categories, embSizes[name] ?? embeddingSizeRule(categories)]
    }
    let config = TabularModelConfig(
        embeddingSizes: sizes, continuous: processor.contNames.count, outputs: processor.outputs, layers: layers, ps: ps, embedP: embedP,
        yRange: yRange.map { [$0.lowerBound, $0.upperBound] })
    let lossFunction: LossFunction
    if let loss {
        lossFunction = loss
    } else if processor.target == .classes {
        lossFunction = { crossEntropy($0, $1) }
    } else {
        lossFunction = { mse($0, $1) }
    }
    let learn = Learner(dls: dls, model: config.model(), loss: lossFunction, opt: opt, metrics: metrics, cbs: cbs, wd: wd)
    learn.exportMetadata = [
        "application": "tabular", TabularExport.processor: jsonText(processor), TabularExport.model: jsonText(config),
    ]
    return learn
}

/// A value as JSON text (for export metadata).
func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}

/// A value from JSON text in an export's metadata; throws naming the file and the key.
func fromJSON<T: Decodable>(_ type: T.Type, _ metadata: [String: String], _ key: String, file: String) throws -> T {
    guard let text = metadata[key] else { throw LearnerError("\(file): the tabular export has no '\(key)'") }
    do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
        throw LearnerError("\(file): the tabular export's '\(key)' is not readable: \(error)")
    }
}

/// The model a `tabularLearner` export describes (nil when the export is not a tabular
/// learner's), checked against the tensors it holds.
public func tabularModel(for export: ExportContents) throws -> Module? {
    guard export.metadata["application"] == "tabular" else { return nil }
    let config = try fromJSON(TabularModelConfig.self, export.metadata, TabularExport.model, file: export.file.path)
    _ = try fromJSON(TabularProcessor.self, export.metadata, TabularExport.processor, file: export.file.path)
    let sizes = config.embeddingSizes
    guard sizes.allSatisfy({ $0.count == 2 && $0[0] > 0 && $0[1] > 0 && $0[0] <= 10_000_000 && $0[1] <= 10_000 }),
        config.continuous >= 0, config.outputs > 0, config.layers.allSatisfy({ $0 > 0 && $0 <= 100_000 }),
        config.continuous <= 100_000, sizes.count <= 100_000, config.outputs <= 1_000_000
    else {
        throw LearnerError("\(export.file.path): the tabular export describes an impossible model")
    }
    for (i, size) in sizes.enumerated() where export.tensors["embeds.\(i).weight"]?.shape != size {
        throw LearnerError("\(export.file.path): the export holds no embedding embeds.\(i).weight of shape \(size)")
    }
    return config.model()
}

/// What a tabular learner predicts for a row (fastai's `learn.predict(row)`): the row as the
/// model saw it, decoded, and the class (with every class's probability) or the value.
public struct TabularPrediction {
    /// The row after the procs, decoded: categories by name (`#na#` for a missing or unseen one),
    /// continuous values filled.
    public let row: [(column: String, value: String)]
    /// The predicted class, or the value as text.
    public let label: String
    /// The predicted class's index (classes only).
    public let index: Int?
    /// The classes' probabilities (classes only).
    public let probabilities: Tensor?
    /// The predicted values (values only).
    public let values: Tensor?
}

extension TabularProcessor {
    /// What `model` predicts for `row` (text values by column name).
    func predict(_ model: Module, row: [String: String]) throws -> TabularPrediction {
        let table = try table(fromRow: row, source: "row")
        let (x, _) = try encode(table, source: "row")
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        let output = noGrad { model(x) }
        let decoded = decode(x.scalars)
        switch target {
        case .classes:
            let probabilities = output.softmax(dim: -1).squeeze(0)
            let index = Int(probabilities.argmax().item())
            return TabularPrediction(row: decoded, label: decodeTarget(Float(index)), index: index, probabilities: probabilities, values: nil)
        case .values:
            let values = output.reshape([-1])
            return TabularPrediction(
                row: decoded, label: values.scalars.map { String(format: "%g", $0) }.joined(separator: ", "), index: nil,
                probabilities: nil, values: values)
        }
    }
}

extension Learner {
    /// What the model predicts for one row of text values by column name (fastai's
    /// `learn.predict(row)`), prepared by the loaders' procs: a missing or unseen category is
    /// `#na#`, a missing continuous value is filled when the training rows had missing values
    /// there (otherwise an error naming the column).
    public func predict(row: [String: String]) throws -> TabularPrediction {
        guard let tabular = dls as? TabularDataLoaders else {
            throw LearnerError("predict(row:): these loaders are not TabularDataLoaders")
        }
        return try exclusively { try tabular.processor.predict(model, row: row) }
    }
}

extension InferenceLearner {
    /// `Learner.predict(row:)` for a loaded tabular export, with the procs it was exported with.
    public func predict(row: [String: String]) throws -> TabularPrediction {
        let processor = try fromJSON(TabularProcessor.self, metadata, TabularExport.processor, file: "the export")
        return try processor.predict(model, row: row)
    }
}

import Autograd
import DataBlocks
import Foundation
import Layers
import Tensors
import Training

/// fastai's `EmbeddingDotBias`: a rating is the dot product of the user's and the item's factor
/// vectors plus a bias for each (squeezed into `yRange` by a sigmoid when given). Input `[N, 2]`
/// (user index, item index), output `[N]`. State dict names are fastai's (`u_weight.weight`,
/// `i_weight.weight`, `u_bias.weight`, `i_bias.weight`).
///
///     learn.embeddingDotBias?.bias(["Star Wars (1977)"])   // chapter 8: what the item biases learned
public final class EmbeddingDotBias: Module {
    public let userWeight: Embedding, itemWeight: Embedding, userBias: Embedding, itemBias: Embedding
    public let yRange: ClosedRange<Float>?
    /// The users and items by index, as the loaders numbered them (for `bias` and `weight`).
    public let users: [String], items: [String]

    public init(factors: Int, users: [String], items: [String], yRange: ClosedRange<Float>? = nil) {
        userWeight = Embedding(users.count, factors)
        itemWeight = Embedding(items.count, factors)
        userBias = Embedding(users.count, 1)
        itemBias = Embedding(items.count, 1)
        self.yRange = yRange
        self.users = users
        self.items = items
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 2, input[1] == 2 else { throw LayerShapeError(self, "expected [N, 2] (user, item) indices, got \(input)") }
        return [input[0]]
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let (users, items) = Self.columns(input)
        let dot = (userWeight(indices: users) * itemWeight(indices: items)).sum(dim: 1)
        let result = dot + userBias(indices: users).reshape([-1]) + itemBias(indices: items).reshape([-1])
        guard let yRange else { return result }
        return result.sigmoid() * (yRange.upperBound - yRange.lowerBound) + yRange.lowerBound
    }

    /// The user and item indices of an `[N, 2]` input.
    static func columns(_ input: Tensor) -> ([Int], [Int]) {
        guard input.rank == 2, input.shape[1] == 2 else { fatalError("EmbeddingDotBias: expected [N, 2] (user, item) indices, got \(input.shape)") }
        let pairs = input.indices()
        return (stride(from: 0, to: pairs.count, by: 2).map { pairs[$0] }, stride(from: 1, to: pairs.count, by: 2).map { pairs[$0] })
    }

    /// The learned biases of `names` (items, or users with `isItem: false`): `[names.count]`
    /// (fastai's `learn.model.bias(arr, is_item=True)`). Throws naming one that is not known.
    public func bias(_ names: [String], isItem: Bool = true) throws -> Tensor {
        let rows = try indices(names, isItem: isItem)
        return noGrad { (isItem ? itemBias : userBias).weight[rows].reshape([-1]) }
    }

    /// The learned factor vectors of `names`: `[names.count, factors]` (fastai's `weight`).
    public func weight(_ names: [String], isItem: Bool = true) throws -> Tensor {
        let rows = try indices(names, isItem: isItem)
        return noGrad { (isItem ? itemWeight : userWeight).weight[rows] }
    }

    private func indices(_ names: [String], isItem: Bool) throws -> [Int] {
        let vocab = isItem ? items : users
        let index = Dictionary(vocab.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return try names.map { name in
            guard let i = index[name] else { throw LearnerError("'\(name)' is not one of the \(isItem ? "items" : "users") the model knows") }
            return i
        }
    }

    public override var children: [(name: String, module: Module)] {
        [("u_weight", userWeight), ("i_weight", itemWeight), ("u_bias", userBias), ("i_bias", itemBias)]
    }
}

/// How a collaborative-filtering model was made, kept in an export so `loadLearner` can make it again.
struct CollabModelConfig: Codable {
    let users: [String], items: [String]
    let factors: Int
    /// Set for fastai's `EmbeddingNN` (`useNN`): the embedding sizes and hidden layers.
    let embeddingSizes: [[Int]]?, layers: [Int]?
    let yRange: [Float]?

    func model() -> Module {
        let range = yRange.map { $0[0]...$0[1] }
        if let embeddingSizes, let layers {
            return TabularModel(embeddingSizes: embeddingSizes.map { ($0[0], $0[1]) }, continuous: 0, outputs: 1, layers: layers, yRange: range)
        }
        return EmbeddingDotBias(factors: factors, users: users, items: items, yRange: range)
    }
}

/// fastai's `collab_learner`: `EmbeddingDotBias` with `nFactors` factors, or with `useNN` fastai's
/// `EmbeddingNN` (a `TabularModel` of the user and item embeddings, sized by `embeddingSizeRule`
/// unless `embSizes` gives them, and hidden `layers`), trained with mean squared error.
///
///     let learn = collabLearner(dls, nFactors: 50, yRange: 0...5.5)
///     try learn.fitOneCycle(epochs: 5, lrMax: 5e-3, wd: 0.1)
public func collabLearner(
    _ dls: CollabDataLoaders, nFactors: Int = 50, useNN: Bool = false, embSizes: (users: Int, items: Int)? = nil, layers: [Int] = [],
    yRange: ClosedRange<Float>? = nil, loss: LossFunction? = nil, opt: OptimizerFactory = .adam, metrics: [Metric] = [],
    cbs: [Callback] = [], wd: Float? = nil
) -> Learner {
    let sizes =
        useNN
        ? [
            [dls.users.count, embSizes?.users ?? embeddingSizeRule(dls.users.count)], [dls.items.count, embSizes?.items ?? embeddingSizeRule(dls.items.count)],
        ]
        : nil
    let config = CollabModelConfig(
        users: dls.users, items: dls.items, factors: nFactors, embeddingSizes: sizes, layers: useNN ? layers : nil,
        yRange: yRange.map { [$0.lowerBound, $0.upperBound] })
    let learn = Learner(dls: dls, model: config.model(), loss: loss ?? mse, opt: opt, metrics: metrics, cbs: cbs, wd: wd)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    learn.exportMetadata = ["application": "collab", "collab_model": (try? encoder.encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"]
    return learn
}

/// The model a `collabLearner` export describes (nil when the export is not one), checked
/// against the tensors it holds.
public func collabModel(for export: ExportContents) throws -> Module? {
    guard export.metadata["application"] == "collab" else { return nil }
    guard let text = export.metadata["collab_model"], let config = try? JSONDecoder().decode(CollabModelConfig.self, from: Data(text.utf8)) else {
        throw LearnerError("\(export.file.path): the collab export's model description is missing or unreadable")
    }
    guard config.factors > 0, config.factors <= 10_000, config.users.count <= 10_000_000, config.items.count <= 10_000_000,
        (config.layers ?? []).allSatisfy({ $0 > 0 && $0 <= 100_000 })
    else { throw LearnerError("\(export.file.path): the collab export describes an impossible model") }
    let model = config.model()
    let expected = Set(model.namedParameters.map(\.name))
    guard expected.isSubset(of: Set(export.tensors.keys)) else {
        throw LearnerError("\(export.file.path): the collab export lacks \(expected.subtracting(export.tensors.keys).sorted())")
    }
    return model
}

extension Learner {
    /// The learner's model as fastai's `EmbeddingDotBias`, when it is one (chapter 8 reads its
    /// biases and factors: `learn.embeddingDotBias?.bias(items: ...)`).
    public var embeddingDotBias: EmbeddingDotBias? { model as? EmbeddingDotBias }
}

import Autograd
import Foundation
import Tensors

/// fastai's `emb_sz_rule`: the embedding size for a categorical column of `categories` values
/// (its `#na#` included), `min(600, round(1.6 · categories^0.56))`.
public func embeddingSizeRule(_ categories: Int) -> Int {
    min(600, Int((1.6 * pow(Double(categories), 0.56)).rounded(.toNearestOrEven)))  // Python's round
}

/// fastai's `LinBnDrop` (with `lin_first`): a linear layer, its activation, then batch norm and
/// dropout; the linear layer has no bias when batch norm follows.
public func linBnDrop(_ inputs: Int, _ outputs: Int, batchNorm: Bool = true, p: Float = 0, activation: Module? = nil) -> Sequential {
    var layers: [Module] = [Linear(inputs, outputs, bias: !batchNorm)]
    if let activation { layers.append(activation) }
    if batchNorm { layers.append(BatchNorm1d(outputs)) }
    if p > 0 { layers.append(Dropout(p: p)) }
    return Sequential(layers)
}

/// fastai's `TabularModel`: an embedding per categorical column (their outputs concatenated,
/// then embedding dropout), batch norm of the continuous columns, then `LinBnDrop` blocks
/// (linear, ReLU, batch norm, dropout) to `outputs` (and `SigmoidRange` with `yRange`).
///
/// Its input is one `[N, categorical + continuous]` tensor: each row's category indices (whole
/// numbers, column by column, as fastai's `x_cat`) then its continuous values (`x_cont`). State
/// dict names are fastai's (`embeds.0.weight`, `bn_cont.running_mean`, `layers.0.0.weight`).
public final class TabularModel: Module {
    public let embeds: [Embedding]
    public let embedDropout: Dropout
    public let bnCont: BatchNorm1d?
    public let layers: Sequential
    /// The number of continuous columns.
    public let continuous: Int

    /// - Parameters:
    ///   - embeddingSizes: `(categories, dimension)` for each categorical column, in order.
    ///   - continuous: the number of continuous columns.
    ///   - outputs: the last layer's size (classes, or 1 for a value).
    ///   - layers: the hidden layers' sizes (fastai's `[200, 100]`).
    ///   - ps: dropout after each hidden layer (one value for all; none by default).
    ///   - embedP: dropout of the concatenated embeddings.
    ///   - yRange: squeeze the outputs into this range (`SigmoidRange`).
    ///   - useBN: batch norm after each hidden layer.
    ///   - bnFinal: batch norm after the last layer too.
    ///   - bnCont: batch norm of the continuous columns.
    public init(
        embeddingSizes: [(categories: Int, dimension: Int)], continuous: Int, outputs: Int, layers: [Int],
        ps: [Float]? = nil, embedP: Float = 0, yRange: ClosedRange<Float>? = nil, useBN: Bool = true, bnFinal: Bool = false,
        bnCont: Bool = true
    ) {
        let dropouts = ps.map { $0.count == 1 ? Array(repeating: $0[0], count: layers.count) : $0 } ?? Array(repeating: 0, count: layers.count)
        precondition(dropouts.count == layers.count, "TabularModel: \(dropouts.count) dropout probabilities for \(layers.count) layers")
        embeds = embeddingSizes.map { Embedding($0.categories, $0.dimension) }
        embedDropout = Dropout(p: embedP)
        self.bnCont = bnCont && continuous > 0 ? BatchNorm1d(continuous) : nil
        self.continuous = continuous
        let sizes = [embeddingSizes.reduce(0) { $0 + $1.dimension } + continuous] + layers + [outputs]
        var blocks: [Module] = (0..<(sizes.count - 1)).map { i in
            let last = i == sizes.count - 2
            return linBnDrop(
                sizes[i], sizes[i + 1], batchNorm: useBN && (!last || bnFinal), p: last ? 0 : dropouts[i], activation: last ? nil : ReLU())
        }
        if let yRange { blocks.append(SigmoidRange(yRange.lowerBound, yRange.upperBound)) }
        self.layers = Sequential(blocks)
    }

    /// The number of categorical columns.
    public var categorical: Int { embeds.count }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 2, input[1] == categorical + continuous else {
            throw LayerShapeError(self, "expected [N, \(categorical) categorical + \(continuous) continuous columns], got \(input)")
        }
        var features: [Int]? = [input[0], embeds.reduce(0) { $0 + $1.dimension } + continuous]
        features = try LayerShapeError.checking("layers", layers, features)
        return features
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard input.rank == 2, input.shape[1] == categorical + continuous else {
            fatalError("TabularModel: expected [N, \(categorical) categorical + \(continuous) continuous columns], got \(input.shape)")
        }
        let n = input.shape[0], width = input.shape[1]
        var parts: [Tensor] = []
        if !embeds.isEmpty {
            // Each categorical column's indices, read once from the batch.
            let columns: [[Int]] = input.withUnsafeBufferPointer { x in
                (0..<embeds.count).map { c in (0..<n).map { Int(x[$0 * width + c]) } }
            }
            let embedded = Tensor.cat(zip(embeds, columns).map { $0(indices: $1) }, dim: 1)
            parts.append(embedDropout(embedded))
        }
        if continuous > 0 {
            let values = input.narrow(dim: 1, start: categorical, length: continuous)
            parts.append(bnCont.map { $0(values) } ?? values)
        }
        return layers(parts.count == 1 ? parts[0] : Tensor.cat(parts, dim: 1))
    }

    /// fastai's names: `embeds.<i>`, `emb_drop`, `bn_cont`, `layers`.
    public override var children: [(name: String, module: Module)] {
        embeds.enumerated().map { ("embeds.\($0.offset)", $0.element as Module) } + [("emb_drop", embedDropout as Module)]
            + (bnCont.map { [("bn_cont", $0 as Module)] } ?? []) + [("layers", layers as Module)]
    }
}

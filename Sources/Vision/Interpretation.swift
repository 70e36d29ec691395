import Training
import Codecs
import Autograd
import DataBlocks
import Foundation
import Layers
import Tensors

extension Learner {
    /// Test-time augmentation (fastai's `tta`): the validation predictions averaged with those
    /// of `n` augmented passes (each batch flipped, rotated, zoomed and warped by the loaders'
    /// `AffineAugment`, or just flipped when they have none), as `(1 - beta) · plain + beta ·
    /// augmented`. Returns probabilities and targets that `accuracy` can score.
    public func tta(n: Int = 4, beta: Double = 0.25, seed: UInt64 = 0) throws -> (probabilities: Tensor, targets: Tensor) {
        let plain = try getPreds(training: false)
        let augment =
            dls.batchTransforms.compactMap { $0 as? AffineAugment }.first
            ?? AffineAugment(doFlip: true, maxRotate: 0, maxZoom: 1, maxWarp: 0, pAffine: 0)
        let valid = dls.valid
        var sum = Tensor.zeros(like: plain.probabilities)
        for pass in 0..<max(n, 1) {
            // The validation items, each batch augmented with a seed of its own.
            let augmented = try DataLoader(
                count: valid.itemCount, batchSize: valid.batchSize, generator: RandomGenerator(seed: seed &+ UInt64(pass) &* 1_000_003)
            ) { positions, batchSeed in
                let (x, y) = valid.batch(positions)
                return (augment.apply(x, random: RandomGenerator(seed: batchSeed)), y)
            }
            sum = sum + (try getPreds(dl: augmented).probabilities)
        }
        let augmented = sum / Float(max(n, 1))
        return (plain.probabilities * Float(1 - beta) + augmented * Float(beta), plain.targets)
    }

    /// Writes a PNG grid of validation images with their actual and predicted targets (classes,
    /// label sets joined by ";", values; green when right, red when wrong; points and masks drawn
    /// on each image twice, the actual then the predicted), fastai's `show_results`. Returns the grid.
    @discardableResult
    public func showResults(to file: URL, count: Int = 9, columns: Int = 3, scale: Int = 2) throws -> Image {
        let preds = try getPreds(withDecoded: true, withInput: true)
        guard let inputs = preds.inputs, inputs.rank == 4, let decoded = preds.decoded, decoded.shape.first == inputs.shape[0] else {
            throw LearnerError("showResults needs image inputs [N, C, H, W] and outputs that decode to targets")
        }
        let n = min(count, inputs.shape[0])
        if dls.targetBlock is PointBlock || dls.targetBlock is MaskBlock {
            // Each item twice, side by side: its target drawn on, then the prediction.
            let images = dls.decode(inputs[0..<n])
            let pictures = (0..<n).flatMap { k in
                [dls.annotated(images[k], target: preds.targets[k]), dls.annotated(images[k], target: decoded[k])]
            }
            let captions = (0..<n).flatMap { _ in
                [[(text: "actual", colour: (UInt8(0), UInt8(0), UInt8(0)))], [(text: "predicted", colour: (UInt8(0), UInt8(0), UInt8(0)))]]
            }
            let grid = Image.grid(Tensor.stack(pictures), captions: captions, columns: 2 * columns, scale: scale)
            try grid.writePNG(to: file)
            return grid
        }
        let captions = (0..<n).map { k in
            let actual = dls.describeTarget(preds.targets[k]), predicted = dls.describeTarget(decoded[k])
            return [
                (text: "\(actual)/\(predicted)", colour: actual == predicted ? (UInt8(0), UInt8(128), UInt8(0)) : (UInt8(200), UInt8(0), UInt8(0)))
            ]
        }
        let grid = Image.grid(dls.decode(inputs[0..<n]), captions: captions, columns: columns, scale: scale)
        try grid.writePNG(to: file)
        return grid
    }
}

/// What a classifier got right and wrong on the validation set (fastai's
/// `ClassificationInterpretation.from_learner`): the confusion matrix, the most confused pairs
/// and the items with the highest losses, as numbers and as pictures.
///
///     let interp = try ClassificationInterpretation(learn)
///     try interp.plotConfusionMatrix(to: URL(fileURLWithPath: "confusion.png"))   // or .svg
///     print(interp.mostConfused(minVal: 2))
///     try interp.plotTopLosses(9, to: URL(fileURLWithPath: "top_losses.png"))
public final class ClassificationInterpretation {
    public let learn: Learner
    public let predictions: Predictions
    /// The class names, index by index.
    public let vocab: [String]

    /// Predicts the validation set once (probabilities, decoded classes, losses, inputs);
    /// throws what `getPreds` throws, and for a learner whose items are not of one class each
    /// (a multi-label classifier, a regression): a confusion matrix needs one class per item.
    public init(_ learn: Learner) throws {
        if learn.outputDecoding is BCEWithLogitsLossFlat || learn.dls.targetBlock is MultiCategoryBlock {
            throw LearnerError(
                "ClassificationInterpretation is for one class per item; this learner predicts sets of labels "
                    + "(MultiCategoryBlock): use getPreds with accuracyMulti or f1ScoreMulti, and showResults")
        }
        if learn.outputDecoding is MSELossFlat || learn.outputDecoding is L1LossFlat || learn.dls.targetBlock is RegressionBlock {
            throw LearnerError("ClassificationInterpretation is for one class per item; this learner predicts values (a regression)")
        }
        self.learn = learn
        predictions = try learn.getPreds(withDecoded: true, withLoss: true, withInput: true)
        let classes = predictions.probabilities.rank == 2 ? predictions.probabilities.shape[1] : 0
        vocab = learn.dls.vocab ?? (0..<classes).map { "\($0)" }
    }

    /// `matrix[actual][predicted]`: how many validation items of each class were predicted as each.
    public func confusionMatrix() -> [[Int]] {
        let k = vocab.count
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (a, p) in zip(predictions.targets.indices(), (predictions.decoded ?? Tensor.zeros([0])).indices())
        where a >= 0 && a < k && p >= 0 && p < k {
            matrix[a][p] += 1
        }
        return matrix
    }

    /// The (actual, predicted) pairs confused at least `minVal` times, most frequent first
    /// (fastai's `most_confused`).
    public func mostConfused(minVal: Int = 1) -> [(actual: String, predicted: String, count: Int)] {
        let matrix = confusionMatrix()
        var pairs: [(actual: String, predicted: String, count: Int)] = []
        for a in matrix.indices { for p in matrix.indices where a != p && matrix[a][p] >= minVal { pairs.append((vocab[a], vocab[p], matrix[a][p])) } }
        return pairs.sorted { ($0.count, $1.actual, $1.predicted) > ($1.count, $0.actual, $0.predicted) }
    }

    /// The `k` validation items with the highest losses, highest first: position in the
    /// validation set, loss, predicted and actual class, and the predicted class's probability.
    public func topLosses(_ k: Int) -> [(index: Int, loss: Float, predicted: String, actual: String, probability: Float)] {
        guard let losses = predictions.losses?.scalars, let decoded = predictions.decoded?.indices() else { return [] }
        let actual = predictions.targets.indices()
        let order = losses.indices.sorted { (losses[$0], $1) > (losses[$1], $0) }.prefix(max(k, 0))
        return order.map { i in
            let p = decoded[i]
            return (i, losses[i], name(p), name(actual[i]), predictions.probabilities[i, p].item())
        }
    }

    private func name(_ i: Int) -> String { i >= 0 && i < vocab.count ? vocab[i] : "\(i)" }

    /// Writes the confusion matrix as a picture: a PNG (a grid of blue cells darker with the
    /// count, the counts written in, class names on both axes), or an SVG when `file` ends in
    /// `.svg`. Returns the PNG image (nil for SVG).
    @discardableResult
    public func plotConfusionMatrix(to file: URL, cell: Int = 24) throws -> Image? {
        let matrix = confusionMatrix()
        if file.pathExtension.lowercased() == "svg" {
            try writeFileReplacing(file, with: Data(confusionSVG(matrix).utf8))
            return nil
        }
        let k = vocab.count, scale = 2
        let label = (vocab.map(\.count).max() ?? 1) * 4 * scale + 8
        let size = label + k * cell + 8
        var image = Image(width: size, height: size + 14, channels: 3, pixels: [UInt8](repeating: 255, count: size * (size + 14) * 3))
        let most = max(matrix.flatMap { $0 }.max() ?? 1, 1)
        for a in 0..<k {
            PixelFont.drawText(vocab[a].uppercased(), into: &image, x: 2, y: label + a * cell + cell / 2 - 5, scale: scale)
            for p in 0..<k {
                let shade = Double(matrix[a][p]) / Double(most)
                let colour = (UInt8(255 - 200 * shade), UInt8(255 - 150 * shade), UInt8(255 - 40 * shade))
                for y in 0..<(cell - 1) {
                    for x in 0..<(cell - 1) {
                        let o = ((label + a * cell + y) * image.width + label + p * cell + x) * 3
                        image.pixels[o] = colour.0; image.pixels[o + 1] = colour.1; image.pixels[o + 2] = colour.2
                    }
                }
                let text = "\(matrix[a][p])"
                PixelFont.drawText(
                    text, into: &image, x: label + p * cell + (cell - text.count * 4 * scale) / 2, y: label + a * cell + cell / 2 - 5,
                    scale: scale, colour: shade > 0.5 ? (255, 255, 255) : (0, 0, 0))
            }
        }
        // Predicted class names along the top, one letter column per class (initials when long).
        for p in 0..<k {
            PixelFont.drawText(
                String(vocab[p].uppercased().prefix(max(1, (cell - 2) / (4 * scale)))), into: &image,
                x: label + p * cell + 2, y: label - 14, scale: scale)
        }
        PixelFont.drawText("ROWS ACTUAL - COLUMNS PREDICTED", into: &image, x: 2, y: size + 2, scale: 1)
        try image.writePNG(to: file)
        return image
    }

    private func confusionSVG(_ matrix: [[Int]]) -> String {
        let k = vocab.count, cell = 40, label = 12 + 8 * (vocab.map(\.count).max() ?? 1)
        let size = label + k * cell + 20
        let most = max(matrix.flatMap { $0 }.max() ?? 1, 1)
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") }
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size)\" height=\"\(size + 20)\" font-family=\"sans-serif\" font-size=\"12\">",
            "<text x=\"4\" y=\"14\">Confusion matrix (rows: actual, columns: predicted)</text>",
        ]
        for a in 0..<k {
            svg.append("<text x=\"4\" y=\"\(label + a * cell + cell / 2 + 4)\">\(escape(vocab[a]))</text>")
            svg.append("<text x=\"\(label + a * cell + 4)\" y=\"\(label - 6)\">\(escape(vocab[a]))</text>")
            for p in 0..<k {
                let shade = Double(matrix[a][p]) / Double(most)
                svg.append(
                    "<rect x=\"\(label + p * cell)\" y=\"\(label + a * cell)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" "
                        + "fill=\"rgb(\(Int(255 - 200 * shade)),\(Int(255 - 150 * shade)),\(Int(255 - 40 * shade)))\"/>"
                )
                svg.append(
                    "<text x=\"\(label + p * cell + cell / 2)\" y=\"\(label + a * cell + cell / 2 + 4)\" text-anchor=\"middle\" "
                        + "fill=\"\(shade > 0.5 ? "white" : "black")\">\(matrix[a][p])</text>"
                )
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Writes a PNG grid of the `k` highest-loss validation images, each captioned with its
    /// predicted and actual class and its loss and probability (fastai's `plot_top_losses`).
    @discardableResult
    public func plotTopLosses(_ k: Int, to file: URL, columns: Int = 3, scale: Int = 2) throws -> Image {
        guard let inputs = predictions.inputs, inputs.rank == 4 else { throw LearnerError("plotTopLosses needs image inputs [N, C, H, W]") }
        let top = topLosses(k)
        guard !top.isEmpty else { throw LearnerError("plotTopLosses: the validation set is empty") }
        let images = Tensor.stack(top.map { learn.dls.decode(inputs[$0.index..<($0.index + 1)])[0] })
        let captions = top.map { t in
            [
                (text: "\(t.predicted)/\(t.actual)", colour: (UInt8(0), UInt8(0), UInt8(0))),
                (text: String(format: "%.2f/%.2f", t.loss, t.probability), colour: (UInt8(90), UInt8(90), UInt8(90))),
            ]
        }
        let grid = Image.grid(images, captions: captions, columns: columns, scale: scale)
        try grid.writePNG(to: file)
        return grid
    }
}

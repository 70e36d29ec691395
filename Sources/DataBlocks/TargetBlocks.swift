import Foundation
import Layers
import Tensors

// What a DataBlock's items are labelled with (fastai's target `TransformBlock`s): one class, a
// set of classes, or numbers. A block says how labels become the targets tensor, how a target
// reads as text, and which loss trains it (the Learner's when none is given).

/// The kind of target of a `DataBlock` (fastai's `CategoryBlock`, `MultiCategoryBlock`,
/// `RegressionBlock`): how an item's `Label` (what `getY` returns) is encoded for the model.
public protocol TargetBlock: Sendable {
    /// What `getY` gives for one item: a `String` class, a `[String]` set of classes, `[Float]` values.
    associatedtype Label

    /// The vocab the labels are encoded with, made from the training split's labels (the
    /// block's own when it was given one); nil for targets without classes.
    func makeVocab(_ trainLabels: [Label]) -> [String]?

    /// The targets of `labels` as one tensor whose first axis is the item (`[n]` class indices,
    /// `[n, classes]` one-hot rows, `[n, k]` values). Throws naming `sources[i]` when label `i`
    /// cannot be encoded (a class outside the vocab, a wrong count of values).
    func encode(_ labels: [Label], vocab: [String]?, sources: [String]) throws -> Tensor

    /// A label read from a table's cell (`ColReader`): the text, split at `delimiter` when the
    /// reader has one. Throws naming `source` when the text is not such a label.
    func label(fromText text: String?, delimiter: String?, source: String) throws -> Label

    /// One item's target (a row of `encode`'s result, or of decoded predictions) as text for
    /// captions: the class, the classes joined by ";", the values.
    func describe(_ target: Tensor, vocab: [String]?) -> String

    /// The loss these targets train with when the Learner is given none (fastai's block `loss_func`).
    var loss: any BaseLoss { get }
}

/// One class per item (fastai's `CategoryBlock`): labels are strings, targets `[n]` class
/// indices into the vocab, the sorted set of training labels unless given. Loss:
/// `CrossEntropyLossFlat`.
public struct CategoryBlock: TargetBlock {
    public let vocab: [String]?
    public init(vocab: [String]? = nil) { self.vocab = vocab }

    public func makeVocab(_ trainLabels: [String]) -> [String]? { vocab ?? Set(trainLabels).sorted() }

    public func encode(_ labels: [String], vocab: [String]?, sources: [String]) throws -> Tensor {
        let categories = Categories(vocab ?? [])
        return Tensor(try labels.indices.map { Float(try categories.encode(labels[$0], source: sources[$0])) })
    }

    public func label(fromText text: String?, delimiter: String?, source: String) throws -> String {
        guard let text, !text.isEmpty else { throw DataError(source, "the label is missing") }
        return text
    }

    public func describe(_ target: Tensor, vocab: [String]?) -> String {
        guard target.count == 1 else { return "\(target.scalars)" }
        return className(Int(target.scalars[0]), vocab)
    }

    public var loss: any BaseLoss { CrossEntropyLossFlat() }
}

/// Several classes per item, perhaps none (fastai's `MultiCategoryBlock`, chapter 6's PASCAL):
/// labels are lists of strings, targets `[n, classes]` one-hot rows over the vocab, the sorted
/// set of every training label unless given. Loss: `BCEWithLogitsLossFlat` (decoded by its
/// threshold).
public struct MultiCategoryBlock: TargetBlock {
    public let vocab: [String]?
    public init(vocab: [String]? = nil) { self.vocab = vocab }

    public func makeVocab(_ trainLabels: [[String]]) -> [String]? { vocab ?? Set(trainLabels.joined()).sorted() }

    public func encode(_ labels: [[String]], vocab: [String]?, sources: [String]) throws -> Tensor {
        let categories = Categories(vocab ?? [])
        let classes = categories.vocab.count
        var oneHot = [Float](repeating: 0, count: labels.count * classes)
        for (i, set) in labels.enumerated() {
            for label in set { oneHot[i * classes + (try categories.encode(label, source: sources[i]))] = 1 }
        }
        return Tensor(shape: [labels.count, classes], scalars: oneHot)
    }

    /// The labels of a one-hot (or decoded 0/1) row, in vocab order.
    public func decode(_ target: Tensor, vocab: [String]?) -> [String] {
        target.scalars.enumerated().filter { $0.element > 0.5 }.map { className($0.offset, vocab) }
    }

    public func label(fromText text: String?, delimiter: String?, source: String) throws -> [String] {
        guard let text, !text.isEmpty else { return [] }
        guard let delimiter, !delimiter.isEmpty else { return [text] }
        return text.components(separatedBy: delimiter).filter { !$0.isEmpty }
    }

    public func describe(_ target: Tensor, vocab: [String]?) -> String { decode(target, vocab: vocab).joined(separator: ";") }

    public var loss: any BaseLoss { BCEWithLogitsLossFlat() }
}

/// Numbers per item (fastai's `RegressionBlock`): labels are `[Float]`, all of one length
/// (`outputs` when given), targets `[n, outputs]`. Loss: `MSELossFlat`.
public struct RegressionBlock: TargetBlock {
    /// The number of values per item (fastai's `n_out`); nil: the first item's count.
    public let outputs: Int?
    public init(outputs: Int? = nil) { self.outputs = outputs }

    public func makeVocab(_ trainLabels: [[Float]]) -> [String]? { nil }

    public func encode(_ labels: [[Float]], vocab: [String]?, sources: [String]) throws -> Tensor {
        let k = outputs ?? labels.first?.count ?? 0
        var values: [Float] = []
        values.reserveCapacity(labels.count * k)
        for (i, label) in labels.enumerated() {
            guard label.count == k else {
                throw DataError(sources[i], "\(label.count) value(s) for a RegressionBlock of \(k) (every item needs the same count)")
            }
            if let bad = label.first(where: { !$0.isFinite }) { throw DataError(sources[i], "the target value \(bad) is not a finite number") }
            values += label
        }
        return Tensor(shape: [labels.count, k], scalars: values)
    }

    public func label(fromText text: String?, delimiter: String?, source: String) throws -> [Float] {
        guard let text, !text.isEmpty else { throw DataError(source, "the target value is missing") }
        let parts = delimiter.map { text.components(separatedBy: $0) } ?? text.split(whereSeparator: \.isWhitespace).map(String.init)
        return try parts.filter { !$0.isEmpty }.map { part in
            guard let value = Float(part.trimmingCharacters(in: .whitespaces)) else { throw DataError(source, "'\(part)' is not a number") }
            return value
        }
    }

    public func describe(_ target: Tensor, vocab: [String]?) -> String {
        target.scalars.map { String(format: "%.2f", $0) }.joined(separator: ",")
    }

    public var loss: any BaseLoss { MSELossFlat() }
}

/// Class `index`'s name in `vocab` (its number when there is none or it is outside).
package func className(_ index: Int, _ vocab: [String]?) -> String {
    vocab.map { index >= 0 && index < $0.count ? $0[index] : "\(index)" } ?? "\(index)"
}

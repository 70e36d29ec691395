import Codecs
import Tensors

/// Maps labels to class indices and back: the vocab.
public struct Categories: Equatable, Sendable {
    /// The labels, index by index.
    public let vocab: [String]
    private let index: [String: Int]

    public init(_ vocab: [String]) {
        self.vocab = vocab
        index = Dictionary(uniqueKeysWithValues: vocab.enumerated().map { ($1, $0) })
    }

    /// The class index of `label`; throws when it is not in the vocab, naming `source`.
    public func encode(_ label: String, source: String) throws -> Int {
        guard let i = index[label] else { throw DataError(source, "label '\(label)' is not in the vocab \(vocab)") }
        return i
    }

    /// The label of class `i`.
    public func decode(_ i: Int) -> String { vocab[i] }

    public static func == (a: Categories, b: Categories) -> Bool { a.vocab == b.vocab }
}

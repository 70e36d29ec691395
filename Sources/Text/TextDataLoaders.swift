import DataBlocks
import Foundation
import Layers
import Tensors

/// Loaders of texts (fastai's `TextDataLoaders`), in one of two forms:
/// - a language model's (`isLM: true`): every pass, the documents are shuffled (training),
///   concatenated and cut into `batchSize` streams read `seqLen` tokens at a time; batches are
///   `(tokens [bs, seqLen], next tokens [bs, seqLen])`, the targets shifted by one (fastai's
///   `LMDataLoader`);
/// - a classifier's: batches of documents of similar length (fastai's `SortedDL`: sorted by
///   length in validation, in shuffled chunks of 50 batches in training), padded with `xxpad`
///   by whole `seqLen` chunks at the front and the rest at the end (`pad_input_chunk`):
///   `(tokens [bs, longest], class indices [bs])`.
///
/// Token indices are whole numbers in float tensors; `textVocab` names them.
///
///     let dls = try TextDataLoaders.fromCSV(path, csvName: "texts.csv", textCol: "text", labelCol: "label", validCol: "is_valid")
///     dls.showBatch()
public final class TextDataLoaders: DataLoaders<(Tensor, Tensor)> {
    /// The tokens by index.
    public let textVocab: TextVocab
    /// Whether the loaders serve a language model.
    public let isLM: Bool
    /// Tokens per language-model row, and the classifier's padding chunk.
    public let seqLen: Int
    /// The tokenizer the texts went through (`predict` tokenizes new text with it).
    public let tokenizer: Tokenizer
    /// The numericalized documents of each split.
    public let trainDocuments: [[Int]], validDocuments: [[Int]]

    /// `xxpad`'s index.
    public static let padIndex = 1

    init(
        textVocab: TextVocab, isLM: Bool, seqLen: Int, tokenizer: Tokenizer, classes: [String]?, trainDocuments: [[Int]],
        validDocuments: [[Int]], trainLabels: [Int], validLabels: [Int], batchSize: Int
    ) throws {
        self.textVocab = textVocab
        self.isLM = isLM
        self.seqLen = seqLen
        self.tokenizer = tokenizer
        self.trainDocuments = trainDocuments
        self.validDocuments = validDocuments
        let train: DataLoader<(Tensor, Tensor)>, valid: DataLoader<(Tensor, Tensor)>
        if isLM {
            train = try Self.languageModelLoader(trainDocuments, batchSize: batchSize, seqLen: seqLen, shuffle: true)
            valid = try Self.languageModelLoader(validDocuments, batchSize: batchSize, seqLen: seqLen, shuffle: false)
        } else {
            train = try Self.classifierLoader(trainDocuments, trainLabels, batchSize: batchSize, seqLen: seqLen, shuffle: true)
            valid = try Self.classifierLoader(validDocuments, validLabels, batchSize: batchSize, seqLen: seqLen, shuffle: false)
        }
        super.init(
            train, valid, vocab: isLM ? textVocab.tokens : classes, targetBlock: isLM ? LanguageModelBlock() : CategoryBlock(vocab: classes))
    }

    // MARK: Making them

    /// Loaders from a table's text column (fastai's `TextDataLoaders.from_df`).
    ///
    /// - Parameters:
    ///   - df: one document per row.
    ///   - textCol: the column of the texts.
    ///   - labelCol: the column of the labels (ignored for a language model).
    ///   - validCol: a true/false column marking validation rows; without it a random
    ///     `validPct` of the rows (with `seed`) is held out.
    ///   - isLM: loaders for a language model (next tokens) rather than a classifier.
    ///   - textVocab: a vocabulary to use (a language model's, for its classifier); by default
    ///     made from all the texts (as fastai counts them) with `minFreq` and `maxVocab`.
    ///   - seqLen: tokens per language-model row; the classifier's padding chunk.
    ///   - batchSize: documents (classifier) or streams (language model) per batch.
    ///   - tokenizer: fastai's rules and word tokenizer by default.
    ///   - cache: a directory where the tokenized texts are kept between runs (none by default).
    /// - Throws: `DataError` naming the row of a missing text or label, the column that does not
    ///   exist, a label column with a single class, or a split left empty.
    public static func fromDF(
        _ df: DataFrame, textCol: String = "text", labelCol: String = "label", validCol: String? = nil, validPct: Double = 0.2,
        seed: UInt64? = nil, isLM: Bool = false, textVocab: TextVocab? = nil, seqLen: Int = 72, batchSize: Int = 64, minFreq: Int = 3,
        maxVocab: Int = 60_000, tokenizer: Tokenizer = Tokenizer(), cache: URL? = nil, source: String = "DataFrame"
    ) throws -> TextDataLoaders {
        let texts = try df.column(textCol)
        var documents: [String] = []
        for row in 0..<df.rowCount {
            guard let text = texts.text(row), !texts.isMissing(row) else {
                throw DataError(source, "row \(row): the text column '\(textCol)' has no value (a missing text cannot be tokenized)")
            }
            documents.append(text)
        }
        var labels: [String] = []
        if !isLM {
            let column = try df.column(labelCol)
            for row in 0..<df.rowCount {
                guard let label = column.text(row), !column.isMissing(row), !label.isEmpty else {
                    throw DataError(source, "row \(row): the label column '\(labelCol)' has no value")
                }
                labels.append(label)
            }
        }
        let split: (train: [Int], valid: [Int])
        if let validCol {
            split = try ColSplitter(validCol).split(df.rowItems)
        } else {
            split = try RandomSplitter(validPct: validPct, seed: seed).split(documents)
        }
        return try make(
            documents: documents, labels: isLM ? nil : labels, split: split, isLM: isLM, textVocab: textVocab, seqLen: seqLen,
            batchSize: batchSize, minFreq: minFreq, maxVocab: maxVocab, tokenizer: tokenizer, cache: cache, labelSource: "the labels (column '\(labelCol)')",
            source: source)
    }

    /// Loaders from a CSV file in `path` (fastai's `TextDataLoaders.from_csv`); the other
    /// parameters are `fromDF`'s.
    public static func fromCSV(
        _ path: URL, csvName: String = "labels.csv", textCol: String = "text", labelCol: String = "label", validCol: String? = nil,
        validPct: Double = 0.2, seed: UInt64? = nil, isLM: Bool = false, textVocab: TextVocab? = nil, seqLen: Int = 72, batchSize: Int = 64,
        minFreq: Int = 3, maxVocab: Int = 60_000, tokenizer: Tokenizer = Tokenizer(), cache: URL? = nil
    ) throws -> TextDataLoaders {
        let file = path.appendingPathComponent(csvName)
        let df = try DataFrame.readCSV(file)
        return try fromDF(
            df, textCol: textCol, labelCol: labelCol, validCol: validCol, validPct: validPct, seed: seed, isLM: isLM, textVocab: textVocab,
            seqLen: seqLen, batchSize: batchSize, minFreq: minFreq, maxVocab: maxVocab, tokenizer: tokenizer, cache: cache,
            source: file.path)
    }

    /// Loaders from IMDB's layout (fastai's `TextDataLoaders.from_folder`): `path/train/<label>/*.txt`
    /// and `path/<valid>/<label>/*.txt`, each file a document labelled by its folder. For a
    /// language model (`isLM`) the labels are ignored and the folders listed in `folders` (all
    /// of `train` and `valid` by default) give the documents. Throws naming a file that is not
    /// UTF-8 text.
    public static func fromFolder(
        _ path: URL, train: String = "train", valid: String = "valid", isLM: Bool = false, textVocab: TextVocab? = nil, seqLen: Int = 72,
        batchSize: Int = 64, minFreq: Int = 3, maxVocab: Int = 60_000, tokenizer: Tokenizer = Tokenizer(), cache: URL? = nil
    ) throws -> TextDataLoaders {
        var documents: [String] = [], labels: [String] = [], trainRows: [Int] = [], validRows: [Int] = []
        for (folder, isValid) in [(train, false), (valid, true)] {
            let root = path.appendingPathComponent(folder)
            guard FileManager.default.fileExists(atPath: root.path) else { throw DataError(root.path, "no such folder") }
            for file in try textFiles(in: root) {
                let data = try Data(contentsOf: file)
                guard let text = String(data: data, encoding: .utf8) else {
                    throw DataError(file.path, "the file is not valid UTF-8 text")
                }
                (isValid ? { validRows.append(documents.count) } : { trainRows.append(documents.count) })()
                documents.append(text)
                labels.append(file.deletingLastPathComponent().lastPathComponent)
            }
        }
        if trainRows.isEmpty { throw DataError(path.appendingPathComponent(train).path, "no .txt files in the training folder") }
        if validRows.isEmpty { throw DataError(path.appendingPathComponent(valid).path, "no .txt files in the validation folder") }
        return try make(
            documents: documents, labels: isLM ? nil : labels, split: (trainRows, validRows), isLM: isLM, textVocab: textVocab, seqLen: seqLen,
            batchSize: batchSize, minFreq: minFreq, maxVocab: maxVocab, tokenizer: tokenizer, cache: cache, labelSource: "the labels (folder names)",
            source: path.path)
    }

    /// The `.txt` files under `folder`, recursively, in path order.
    static func textFiles(in folder: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else {
            throw DataError(folder.path, "the folder cannot be read")
        }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "txt" }.sorted { $0.path < $1.path }
    }

    private static func make(
        documents: [String], labels: [String]?, split: (train: [Int], valid: [Int]), isLM: Bool, textVocab: TextVocab?, seqLen: Int,
        batchSize: Int, minFreq: Int, maxVocab: Int, tokenizer: Tokenizer, cache: URL?, labelSource: String, source: String
    ) throws -> TextDataLoaders {
        guard seqLen > 0 else { throw DataError(source, "seqLen must be positive, got \(seqLen)") }
        guard batchSize > 0 else { throw DataError(source, "batchSize must be positive, got \(batchSize)") }
        guard !split.train.isEmpty, !split.valid.isEmpty else {
            throw DataError(source, "the \(split.train.isEmpty ? "training" : "validation") split is empty")
        }
        let tokens = tokenizer.tokenize(documents, cache: cache)
        // Counted over every document, as fastai counts (its tokenizer's counter covers the whole
        // table or folder, the validation texts included).
        let vocab = textVocab ?? TextVocab(counting: tokens, minFreq: minFreq, maxVocab: maxVocab)
        var classes: [String]?
        var encoded: [Int] = []
        if let labels {
            let trainClasses = Set(split.train.map { labels[$0] }).sorted()
            guard trainClasses.count >= 2 else {
                throw DataError(
                    source, "\(labelSource) give the training texts a single class ('\(trainClasses.first ?? "")'): a classifier needs at least two")
            }
            let categories = Categories(trainClasses)
            encoded = try labels.indices.map { try categories.encode(labels[$0], source: "\(source), row \($0)") }
            classes = trainClasses
        }
        return try TextDataLoaders(
            textVocab: vocab, isLM: isLM, seqLen: seqLen, tokenizer: tokenizer, classes: classes,
            trainDocuments: split.train.map { vocab.encode(tokens[$0]) }, validDocuments: split.valid.map { vocab.encode(tokens[$0]) },
            trainLabels: split.train.map { encoded.isEmpty ? 0 : encoded[$0] }, validLabels: split.valid.map { encoded.isEmpty ? 0 : encoded[$0] },
            batchSize: batchSize)
    }

    // MARK: Language model batches

    /// fastai's `LMDataLoader` over `documents`.
    static func languageModelLoader(_ documents: [[Int]], batchSize bs: Int, seqLen: Int, shuffle: Bool) throws -> DataLoader<(Tensor, Tensor)> {
        let total = documents.reduce(0) { $0 + $1.count }
        // The last token is only a target; the end that does not fill every stream is dropped.
        let streamLength = max(total - 1, 0) / bs
        guard streamLength > 0 else {
            throw DataError(
                "TextDataLoaders", "\(total) tokens are too few for \(bs) language-model streams: use a smaller batchSize or more text")
        }
        let batches = (streamLength + seqLen - 1) / seqLen
        let stream = LanguageModelStream(documents: documents, shuffle: shuffle)
        return try DataLoader(count: batches * bs, batchSize: bs, shuffle: false, dropLast: false, prefetch: true) { positions, seed in
            let batch = positions[0] / bs
            let tokens = stream.tokens(pass: batch == 0 ? seed : nil)
            let length = min(seqLen, streamLength - batch * seqLen)
            var x = [Float](repeating: 0, count: bs * length), y = x
            for row in 0..<bs {
                let start = row * streamLength + batch * seqLen
                for t in 0..<length {
                    x[row * length + t] = Float(tokens[start + t])
                    y[row * length + t] = Float(tokens[start + t + 1])
                }
            }
            return (Tensor(shape: [bs, length], scalars: x), Tensor(shape: [bs, length], scalars: y))
        }
    }

    // MARK: Classifier batches

    /// fastai's `SortedDL` with `Pad_Chunk` over `documents`.
    static func classifierLoader(
        _ documents: [[Int]], _ labels: [Int], batchSize bs: Int, seqLen: Int, shuffle: Bool
    ) throws -> DataLoader<(Tensor, Tensor)> {
        let order = SortedOrder(lengths: documents.map(\.count), batchSize: bs, shuffle: shuffle)
        return try DataLoader(count: documents.count, batchSize: bs, shuffle: false, dropLast: shuffle, prefetch: true) {
            positions, seed in
            let items = order.items(positions, pass: positions.first == 0 ? seed : nil)
            let longest = items.map { documents[$0].count }.max() ?? 0
            var x = [Float](repeating: Float(padIndex), count: items.count * longest)
            for (row, item) in items.enumerated() {
                let document = documents[item]
                // Whole chunks of padding first, the remainder at the end: the text starts on a chunk boundary.
                let front = (longest - document.count) / seqLen * seqLen
                for (t, token) in document.enumerated() { x[row * longest + front + t] = Float(token) }
            }
            return (Tensor(shape: [items.count, longest], scalars: x), Tensor(items.map { Float(labels[$0]) }))
        }
    }

    // MARK: Showing them

    /// The documents of a batch as text with their targets, as fastai's `show_batch` prints
    /// them (tokens joined by spaces, cut after `truncateAt` tokens; padding left out); printed,
    /// and returned.
    @discardableResult
    public func showBatch(maxN: Int = 9, truncateAt: Int = 150) -> String {
        let (x, y) = train.oneBatch()
        let rows = min(maxN, x.shape[0])
        let width = x.shape[1]
        let tokens = x.scalars.map { Int($0) }, targets = y.scalars.map { Int($0) }
        var lines = [isLM ? "text\ttext_" : "text\tcategory"]
        for row in 0..<rows {
            let words = tokens[row * width..<(row + 1) * width].filter { $0 != Self.padIndex }
            let text = textVocab.decode(Array(words.prefix(truncateAt))).joined(separator: " ")
            let target =
                isLM
                ? textVocab.decode(Array(targets[row * width..<(row + 1) * width].prefix(truncateAt))).joined(separator: " ")
                : describeTarget(Tensor(Float(targets[row])))
            lines.append("\(text)\t\(target)")
        }
        let table = lines.joined(separator: "\n")
        print(table)
        return table
    }

    /// A text's token indices as the loaders make them (tokenized, then numericalized).
    public func numericalize(_ text: String) -> [Int] { textVocab.encode(tokenizer(text)) }
}

/// A language model's targets: the next token's index, one per position (`[bs, seqLen]`).
/// Loss: cross-entropy over the vocabulary on the last axis.
public struct LanguageModelBlock: TargetBlock {
    /// The block of next-token targets.
    public init() {}
    /// None: the targets index the text vocabulary.
    public func makeVocab(_ trainLabels: [String]) -> [String]? { nil }
    /// Each token's index in `vocab` (0, `xxunk`, when absent).
    public func encode(_ labels: [String], vocab: [String]?, sources: [String]) throws -> Tensor {
        Tensor(labels.map { Float(vocab?.firstIndex(of: $0) ?? 0) })
    }
    /// The token itself.
    public func label(fromText text: String?, delimiter: String?, source: String) throws -> String { text ?? "" }
    /// The tokens, joined by spaces.
    public func describe(_ target: Tensor, vocab: [String]?) -> String {
        target.scalars.map { className(Int($0), vocab) }.joined(separator: " ")
    }
    /// Cross-entropy over the vocabulary, on the last axis.
    public var loss: any BaseLoss { CrossEntropyLossFlat() }
}

/// The concatenated documents of a language model's pass, shuffled anew at each pass's first
/// batch (batches are made in order, so the rest of the pass reads the same stream).
final class LanguageModelStream: @unchecked Sendable {
    private let documents: [[Int]]
    private let shuffle: Bool
    private let lock = NSLock()
    private var current: [Int]

    init(documents: [[Int]], shuffle: Bool) {
        self.documents = documents
        self.shuffle = shuffle
        current = documents.flatMap { $0 }
    }

    /// The stream of this pass: reshuffled from `pass` (a seed) when given and shuffling.
    func tokens(pass seed: UInt64?) -> [Int] {
        lock.withLock {
            if let seed, shuffle {
                let order = RandomGenerator(seed: seed).permutation(documents.count)
                current = order.flatMap { documents[$0] }
            }
            return current
        }
    }
}

/// The order of a classifier's items in a pass (fastai's `SortedDL`): longest first in
/// validation; in training, a random order with the longest item first, sorted by length within
/// chunks of 50 batches, the batches then shuffled except the first and the last.
final class SortedOrder: @unchecked Sendable {
    private let lengths: [Int]
    private let batchSize: Int
    private let shuffle: Bool
    private let lock = NSLock()
    private var current: [Int]

    init(lengths: [Int], batchSize: Int, shuffle: Bool) {
        self.lengths = lengths
        self.batchSize = batchSize
        self.shuffle = shuffle
        current = Array(lengths.indices).sorted { lengths[$0] > lengths[$1] }
    }

    /// The items at `positions` of this pass, reordered from `pass` (a seed) when given and shuffling.
    func items(_ positions: [Int], pass seed: UInt64?) -> [Int] {
        lock.withLock {
            if let seed, shuffle { current = shuffled(RandomGenerator(seed: seed)) }
            return positions.map { current[$0] }
        }
    }

    private func shuffled(_ generator: RandomGenerator) -> [Int] {
        var order = generator.permutation(lengths.count)
        guard let longest = lengths.indices.max(by: { lengths[$0] < lengths[$1] }), let at = order.firstIndex(of: longest) else {
            return order
        }
        order.swapAt(0, at)
        let chunk = batchSize * 50
        var sorted: [Int] = []
        for start in stride(from: 0, to: order.count, by: chunk) {
            sorted += order[start..<min(start + chunk, order.count)].sorted { lengths[$0] > lengths[$1] }
        }
        var batches = stride(from: 0, to: sorted.count, by: batchSize).map { Array(sorted[$0..<min($0 + batchSize, sorted.count)]) }
        guard batches.count > 2 else { return batches.flatMap { $0 } }
        let middle = generator.permutation(batches.count - 2).map { batches[$0 + 1] }
        batches = [batches[0]] + middle + [batches[batches.count - 1]]
        return batches.flatMap { $0 }
    }
}

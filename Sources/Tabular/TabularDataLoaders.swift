import DataBlocks
import Foundation
import Tensors

/// fastai's `TabularDataLoaders`: a table's training and validation rows, preprocessed once by
/// the procs (learned from the training rows), in batches of `(inputs [N, categorical +
/// continuous], targets [N])`, with the `processor` that turns new rows into inputs alike.
///
///     let dls = try TabularDataLoaders.fromCSV(path.appendingPathComponent("adult.csv"), yNames: ["salary"],
///                                              catNames: ["workclass", "education", "marital-status", "occupation"],
///                                              contNames: ["age", "fnlwgt", "education-num"],
///                                              procs: [.categorify, .fillMissing, .normalize])
public final class TabularDataLoaders: DataLoaders<(Tensor, Tensor)> {
    /// The preprocessing the rows went through.
    public let processor: TabularProcessor
    /// The training and validation rows as read (before the procs).
    public let trainRows: DataFrame, validRows: DataFrame

    init(
        processor: TabularProcessor, trainRows: DataFrame, validRows: DataFrame, train: DataLoader<(Tensor, Tensor)>,
        valid: DataLoader<(Tensor, Tensor)>
    ) {
        self.processor = processor
        self.trainRows = trainRows
        self.validRows = validRows
        super.init(train, valid, vocab: processor.target == .classes ? processor.targetClasses : nil)
    }

    /// Loaders over a table's rows (fastai's `TabularDataLoaders.from_df`).
    ///
    /// - Parameters:
    ///   - df: the table, one row per item.
    ///   - yNames: the target column (one).
    ///   - catNames: the categorical columns.
    ///   - contNames: the continuous columns; by default every column that is neither categorical
    ///     nor the target.
    ///   - procs: `.categorify`, `.fillMissing`, `.normalize` (none by default, as fastai).
    ///   - yBlock: the target's kind (by default values for a numeric column, classes otherwise).
    ///   - validIdx: the validation rows; by default a random `validPct` of them, with `seed`.
    ///   - validPct: the share of rows held out for validation when `validIdx` is not given.
    ///   - seed: the split's seed (by default, one drawn from the global generator).
    ///   - batchSize: rows per batch (the training loader shuffles and drops its last partial batch).
    ///   - source: how errors name the table (a file's path, say).
    public static func fromDF(
        _ df: DataFrame, yNames: [String], catNames: [String] = [], contNames: [String]? = nil, procs: [TabularProc] = [],
        yBlock: TabularTarget? = nil, validIdx: [Int]? = nil, validPct: Double = 0.2, seed: UInt64? = nil, batchSize: Int = 64,
        source: String = "table"
    ) throws -> TabularDataLoaders {
        guard yNames.count == 1 else { throw DataError(source, "yNames: one target column is supported, got \(yNames)") }
        guard batchSize > 0 else { throw DataError(source, "batchSize must be positive, got \(batchSize)") }
        guard df.rowCount >= 2 else { throw DataError(source, "the table has \(df.rowCount) row(s): too few to split for training and validation") }
        let yName = yNames[0]
        let conts = contNames ?? df.columnNames.filter { !catNames.contains($0) && $0 != yName }
        let rows = Array(0..<df.rowCount)
        let (trainIndex, validIndex) =
            try validIdx.map { try IndexSplitter(validIndices: $0).split(rows) }
            ?? RandomSplitter(validPct: validPct, seed: seed).split(rows)
        let (trainRows, validRows) = (df.rows(trainIndex), df.rows(validIndex))
        let processor = try TabularProcessor(trainRows, catNames: catNames, contNames: conts, yName: yName, procs: procs, target: yBlock, source: source)
        let (trainX, trainY) = try processor.encode(trainRows, source: source)
        let (validX, validY) = try processor.encode(validRows, source: source)
        // The training loader is made first, as the image loaders are: each draws its generator
        // from the global one as it is made.
        let train = try DataLoader(TensorDataset(trainX, trainY ?? Tensor.zeros([trainIndex.count])), batchSize: batchSize, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(validX, validY ?? Tensor.zeros([validIndex.count])), batchSize: batchSize)
        return TabularDataLoaders(processor: processor, trainRows: trainRows, validRows: validRows, train: train, valid: valid)
    }

    /// Loaders over the rows of a CSV file (fastai's `from_csv`); the other parameters are
    /// `fromDF`'s.
    public static func fromCSV(
        _ file: URL, yNames: [String], catNames: [String] = [], contNames: [String]? = nil, procs: [TabularProc] = [],
        yBlock: TabularTarget? = nil, validIdx: [Int]? = nil, validPct: Double = 0.2, seed: UInt64? = nil, batchSize: Int = 64
    ) throws -> TabularDataLoaders {
        try fromDF(
            try DataFrame.readCSV(file), yNames: yNames, catNames: catNames, contNames: contNames, procs: procs, yBlock: yBlock,
            validIdx: validIdx, validPct: validPct, seed: seed, batchSize: batchSize, source: file.path)
    }

    /// A loader over new rows, preprocessed as the training rows were (fastai's `dls.test_dl`);
    /// their targets when the table has the target column, zeros otherwise. In order, every row.
    public func testDL(_ rows: DataFrame, batchSize: Int? = nil) throws -> DataLoader<(Tensor, Tensor)> {
        let (x, y) = try processor.encode(rows, source: "test rows")
        return try DataLoader(TensorDataset(x, y ?? Tensor.zeros([rows.rowCount])), batchSize: batchSize ?? train.batchSize)
    }

    /// The first training batch decoded, as fastai's `show_batch` prints it: a row per item,
    /// categories by name, continuous values unnormalised, and the target.
    @discardableResult
    public func showBatch(maxRows: Int = 10) -> String {
        let (x, y) = oneBatch()
        let n = min(maxRows, x.shape[0]), width = processor.width
        let values = x.scalars, targets = y.scalars
        var table = [[""] + processor.catNames + processor.contNames + [processor.yName ?? "target"]]
        for i in 0..<n {
            let row = processor.decode(Array(values[(i * width)..<((i + 1) * width)]))
            table.append(["\(i)"] + row.map(\.value) + [processor.decodeTarget(targets[i])])
        }
        let widths = table[0].indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        let text = table.map { row in
            zip(row, widths).map { cell, width in String(repeating: " ", count: width - cell.count) + cell }.joined(separator: "  ")
        }.joined(separator: "\n")
        print(text)
        return text
    }
}

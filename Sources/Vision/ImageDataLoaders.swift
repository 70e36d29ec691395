import DataBlocks
import Codecs
import Foundation
import Tensors

/// fastai's `ImageDataLoaders` factory methods: image classification loaders in one call, from
/// class folders, from file names (a function or a regular expression), or from a CSV file.
/// Every one takes the item and batch transforms of a `DataBlock`:
///
///     let dls = try ImageDataLoaders.fromNameFunc(path, files: try getImageFiles(path),
///                                                  labelFunc: { $0.lastPathComponent.first?.isUppercase == true ? "cat" : "dog" },
///                                                  itemTransforms: [Resize(224)], batchTransforms: augTransforms())
public enum ImageDataLoaders {
    /// Images in `path/<train>/<label>/` and `path/<valid>/<label>/` (labels from the parent
    /// folder, split by the grandparent); or, with `validPct`, every image below `path` split at
    /// random (with `seed`).
    public static func fromFolder(
        _ path: URL, train: String = "train", valid: String = "valid", validPct: Double? = nil,
        seed: UInt64? = nil, batchSize: Int = 64, channels: Int? = nil,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) throws
        -> DataLoaders<(Tensor, Tensor)>
    {
        let splitter: Splitter = validPct.map { RandomSplitter(validPct: $0, seed: seed) } ?? GrandparentSplitter(train: train, valid: valid)
        let block = DataBlock(
            blocks: (ImageBlock(channels: channels), CategoryBlock()), getItems: getImageFiles, splitter: splitter,
            getY: parentLabel, itemTransforms: itemTransforms, batchTransforms: batchTransforms)
        return try block.dataLoaders(path, batchSize: batchSize)
    }

    /// The image `files` labelled by `labelFunc` (fastai's `from_name_func`, chapter 1's pets:
    /// `labelFunc: { $0.lastPathComponent.first?.isUppercase == true ? "cat" : "dog" }`), a random
    /// `validPct` held out with `seed`.
    public static func fromNameFunc(
        _ path: URL, files: [URL], labelFunc: @escaping (URL) throws -> String, validPct: Double = 0.2,
        seed: UInt64? = nil, batchSize: Int = 64, channels: Int? = nil,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) throws
        -> DataLoaders<(Tensor, Tensor)>
    {
        let block = DataBlock(
            blocks: (ImageBlock(channels: channels), CategoryBlock()), getItems: { _ in files },
            splitter: RandomSplitter(validPct: validPct, seed: seed), getY: labelFunc,
            itemTransforms: itemTransforms, batchTransforms: batchTransforms)
        return try block.dataLoaders(path, batchSize: batchSize)
    }

    /// The image `files` labelled by the first capture group of `pattern` on each file name
    /// (fastai's `from_name_re`: `#"^(.+)_\d+\.jpg$"#` labels `great_pyrenees_173.jpg` as
    /// `great_pyrenees`). A name the pattern does not match is an error naming the file.
    public static func fromNameRe(
        _ path: URL, files: [URL], pattern: String, validPct: Double = 0.2,
        seed: UInt64? = nil, batchSize: Int = 64, channels: Int? = nil,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) throws
        -> DataLoaders<(Tensor, Tensor)>
    {
        let labeller = try RegexLabeller(pattern, match: .name)
        return try fromNameFunc(
            path, files: files, labelFunc: labeller.callAsFunction, validPct: validPct, seed: seed,
            batchSize: batchSize, channels: channels, itemTransforms: itemTransforms, batchTransforms: batchTransforms)
    }

    /// Images listed in a CSV file of file names and labels (fastai's `from_csv` / `from_df`):
    /// file `row[fnCol]` (with `suffix`) under `path/folder`, label `row[labelCol]`. With a
    /// `labelDelimiter` the label cell holds several labels (`"dog person"` with `" "`): the
    /// targets are label sets (`MultiCategoryBlock`), trained with `BCEWithLogitsLossFlat`.
    /// With a `validCol` (a column of true/false or 1/0) that column picks the validation rows;
    /// otherwise a random `validPct` with `seed`. The first row is a header when `header`.
    public static func fromCSV(
        _ path: URL, csvFile: String = "labels.csv", header: Bool = true, folder: String? = nil,
        suffix: String = "", fnCol: Int = 0, labelCol: Int = 1, labelDelimiter: String? = nil, validCol: Int? = nil,
        validPct: Double = 0.2, seed: UInt64? = nil, batchSize: Int = 64, channels: Int? = nil,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) throws
        -> DataLoaders<(Tensor, Tensor)>
    {
        let file = path.appendingPathComponent(csvFile)
        var rows = try CSVTable.read(file)
        if header && !rows.isEmpty { rows.removeFirst() }
        guard !rows.isEmpty else { throw DataError(file.path, "the CSV file has no rows of file names and labels") }
        let prefix = folder.map { path.appendingPathComponent($0) } ?? path
        let name = ColReader(fnCol, suffix: suffix), label = ColReader(labelCol)
        var labels: [URL: String] = [:], items: [URL] = [], validRows: [Int] = []
        for (i, row) in rows.enumerated() {
            let line = i + (header ? 2 : 1)
            let url = prefix.appendingPathComponent(try name(row, line: line, source: file.path))
            items.append(url)
            labels[url] = try label(row, line: line, source: file.path)
            if let validCol {
                let flag = try ColReader(validCol)(row, line: line, source: file.path).lowercased()
                guard ["true", "false", "1", "0"].contains(flag) else {
                    throw DataError(file.path, "line \(line): the validation column holds '\(flag)', not true/false or 1/0")
                }
                if flag == "true" || flag == "1" { validRows.append(i) }
            }
        }
        let splitter: Splitter = validCol != nil ? IndexSplitter(validIndices: validRows) : RandomSplitter(validPct: validPct, seed: seed)
        if let labelDelimiter {
            let block = DataBlock(
                blocks: (ImageBlock(channels: channels), MultiCategoryBlock()), getItems: { _ in items }, splitter: splitter,
                getY: { url in try MultiCategoryBlock().label(fromText: labels[url], delimiter: labelDelimiter, source: url.path) },
                itemTransforms: itemTransforms, batchTransforms: batchTransforms)
            return try block.dataLoaders(path, batchSize: batchSize)
        }
        let block = DataBlock(
            blocks: (ImageBlock(channels: channels), CategoryBlock()), getItems: { _ in items }, splitter: splitter,
            getY: { url in labels[url] ?? "" }, itemTransforms: itemTransforms, batchTransforms: batchTransforms)
        return try block.dataLoaders(path, batchSize: batchSize)
    }
}

/// fastai's `SegmentationDataLoaders`: images and their masks in one call.
public enum SegmentationDataLoaders {
    /// The image `files`, each with the mask file `labelFunc` names (chapter 1's CamVid:
    /// `labelFunc: { path/"labels"/"\($0.deletingPathExtension().lastPathComponent)_P.png" }`),
    /// its pixels the codes of `codes`; a random `validPct` held out with `seed`. The item
    /// and batch transforms move the masks with their images (nearest neighbour).
    public static func fromLabelFunc(
        _ path: URL, files: [URL], labelFunc: @escaping (URL) throws -> URL, codes: [String], validPct: Double = 0.2,
        seed: UInt64? = nil, batchSize: Int = 64, channels: Int? = nil,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) throws -> DataLoaders<(Tensor, Tensor)> {
        let block = DataBlock(
            blocks: (ImageBlock(channels: channels), MaskBlock(codes: codes)), getItems: { _ in files },
            splitter: RandomSplitter(validPct: validPct, seed: seed), getY: labelFunc, itemTransforms: itemTransforms,
            batchTransforms: batchTransforms)
        return try block.dataLoaders(path, batchSize: batchSize)
    }
}

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
    /// `validCol` (a column of true/false or 1/0) that column picks the validation rows;
    /// otherwise a random `validPct` with `seed`. The first row is a header when `header`.
    public static func fromCSV(
        _ path: URL, csvFile: String = "labels.csv", header: Bool = true, folder: String? = nil,
        suffix: String = "", fnCol: Int = 0, labelCol: Int = 1, validCol: Int? = nil,
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
        let block = DataBlock(
            blocks: (ImageBlock(channels: channels), CategoryBlock()), getItems: { _ in items }, splitter: splitter,
            getY: { url in labels[url] ?? "" }, itemTransforms: itemTransforms, batchTransforms: batchTransforms)
        return try block.dataLoaders(path, batchSize: batchSize)
    }
}

/// Labels an item by the first capture group of a regular expression (fastai's `RegexLabeller`),
/// matched against the file name (default) or the whole path.
public struct RegexLabeller: Sendable {
    /// What the pattern is matched against.
    public enum Target: Sendable { case name, path }
    public let pattern: String
    public let target: Target
    private let expression: NSRegularExpressionBox

    /// Throws when `pattern` is not a valid regular expression or has no capture group.
    public init(_ pattern: String, match target: Target = .name) throws {
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw DataError("RegexLabeller", "'\(pattern)' is not a valid regular expression: \(error.localizedDescription)")
        }
        guard regex.numberOfCaptureGroups >= 1 else {
            throw DataError("RegexLabeller", "'\(pattern)' has no capture group: put the label's part in parentheses, as #\"^(.+)_\\d+\\.jpg$\"#")
        }
        self.pattern = pattern
        self.target = target
        expression = NSRegularExpressionBox(regex)
    }

    /// The label of `item`; throws naming the item when the pattern does not match it.
    public func callAsFunction(_ item: URL) throws -> String {
        let text = target == .name ? item.lastPathComponent : item.path
        let range = NSRange(text.startIndex..., in: text)
        guard let match = expression.regex.firstMatch(in: text, range: range),
            let group = Range(match.range(at: 1), in: text)
        else {
            throw DataError(item.path, "RegexLabeller: '\(pattern)' does not match '\(text)'")
        }
        return String(text[group])
    }
}

/// `NSRegularExpression` is immutable once made; this box lets labellers cross threads.
private final class NSRegularExpressionBox: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
}

/// Reads one column of a CSV row, with an optional prefix and suffix (fastai's `ColReader`).
public struct ColReader: Sendable {
    public let column: Int
    public let prefix: String, suffix: String

    public init(_ column: Int, prefix: String = "", suffix: String = "") {
        self.column = column
        self.prefix = prefix
        self.suffix = suffix
    }

    /// The column's value of `row`; throws naming the line when the row is too short.
    public func callAsFunction(_ row: [String], line: Int, source: String) throws -> String {
        guard column >= 0, column < row.count else {
            throw DataError(source, "line \(line) has \(row.count) column(s); column \(column) was asked for")
        }
        return prefix + row[column] + suffix
    }
}

/// Splits by a function of the item: `true` for validation items (fastai's `FuncSplitter`).
public struct FuncSplitter: Splitter {
    public let isValid: (URL) -> Bool
    public init(_ isValid: @escaping (URL) -> Bool) { self.isValid = isValid }
    public func split(_ items: [URL]) throws -> (train: [Int], valid: [Int]) {
        let valid = items.indices.filter { isValid(items[$0]) }
        let train = items.indices.filter { !isValid(items[$0]) }
        guard !train.isEmpty, !valid.isEmpty else {
            throw DataError(
                items.first?.deletingLastPathComponent().path ?? "FuncSplitter",
                "FuncSplitter put all \(items.count) items in the \(train.isEmpty ? "validation" : "training") split")
        }
        return (train, valid)
    }
}

/// The items at `validIndices` are for validation, the rest for training (fastai's `IndexSplitter`).
public struct IndexSplitter: Splitter {
    public let validIndices: [Int]
    public init(validIndices: [Int]) { self.validIndices = validIndices }
    public func split(_ items: [URL]) throws -> (train: [Int], valid: [Int]) {
        let source = items.first?.deletingLastPathComponent().path ?? "IndexSplitter"
        if let bad = validIndices.first(where: { $0 < 0 || $0 >= items.count }) {
            throw DataError(source, "IndexSplitter: index \(bad) is outside the \(items.count) items")
        }
        let valid = Set(validIndices)
        let train = items.indices.filter { !valid.contains($0) }
        guard !train.isEmpty, !valid.isEmpty else {
            throw DataError(source, "IndexSplitter leaves the \(train.isEmpty ? "training" : "validation") split empty")
        }
        return (train, valid.sorted())
    }
}

/// Comma-separated values as text: rows of fields, with quoted fields (`"a, b"`, `""` for a
/// quote) and `\n` or `\r\n` line ends (RFC 4180).
public enum CSVTable {
    /// The rows of a CSV file; throws naming the file when it cannot be read or is not UTF-8.
    public static func read(_ file: URL) throws -> [[String]] {
        let bytes = try Image.readFile(file)
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw DataError(file.path, "the CSV file is not UTF-8 text") }
        return try parse(text, source: file.path)
    }

    /// The rows of CSV `text`; empty lines are skipped. Throws on an unterminated quote.
    public static func parse(_ text: String, source: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, fieldStarted = false
        var characters = text.unicodeScalars.makeIterator()
        var pending = characters.next()
        func endRow() {
            if fieldStarted || !row.isEmpty || !field.isEmpty { row.append(field); rows.append(row) }
            row = []; field = ""; fieldStarted = false
        }
        while let c = pending {
            pending = characters.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = characters.next() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true; fieldStarted = true
            case ",": row.append(field); field = ""; fieldStarted = true
            case "\r": break
            case "\n": endRow()
            default: field.unicodeScalars.append(c); fieldStarted = true
            }
        }
        guard !quoted else { throw DataError(source, "a quoted field is not closed before the end of the file") }
        endRow()
        return rows
    }
}

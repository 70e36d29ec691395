import Foundation
import Tensors

// Which items are for training and which for validation (fastai's splitters).

/// Decides which items are for training and which for validation.
public protocol Splitter {
    /// The positions of the training and the validation items (files, a table's rows, ...).
    func split<Item>(_ items: [Item]) throws -> (train: [Int], valid: [Int])
}

/// The items as file URLs, for a splitter that reads their paths; throws naming the splitter
/// when they are something else (a table's rows).
private func fileItems<Item>(_ items: [Item], _ splitter: String) throws -> [URL] {
    guard let urls = items as? [URL] else {
        throw DataError(splitter, "\(splitter) splits files by their path, but the items are \(Item.self)s; use RandomSplitter or IndexSplitter")
    }
    return urls
}

/// A name for the items in an error: the first file's folder, or the splitter's name.
private func itemsSource<Item>(_ items: [Item], _ splitter: String) -> String {
    (items.first as? URL)?.deletingLastPathComponent().path ?? splitter
}

/// Splits by the name of each item's grandparent folder (`training/3/10.png` → "training").
public struct GrandparentSplitter: Splitter {
    public let train: String, valid: String
    public init(train: String = "train", valid: String = "valid") {
        self.train = train
        self.valid = valid
    }
    public func split<Item>(_ items: [Item]) throws -> (train: [Int], valid: [Int]) {
        let items = try fileItems(items, "GrandparentSplitter")
        let grandparents = items.map { $0.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent }
        let t = grandparents.indices.filter { grandparents[$0] == train }, v = grandparents.indices.filter { grandparents[$0] == valid }
        guard !t.isEmpty else {
            throw DataError(items.first?.path ?? "", "no items in a '\(train)' folder: the training split is empty (found \(Set(grandparents).sorted()))")
        }
        guard !v.isEmpty else {
            throw DataError(items.first?.path ?? "", "no items in a '\(valid)' folder: the validation split is empty (found \(Set(grandparents).sorted()))")
        }
        return (t, v)
    }
}

/// Holds out a random `validPct` of the items, the same ones for the same seed.
public struct RandomSplitter: Splitter {
    public let validPct: Double, seed: UInt64?
    /// `validPct` is checked when splitting (a wrong value is a thrown error there, not a trap).
    public init(validPct: Double = 0.2, seed: UInt64? = nil) {
        self.validPct = validPct
        self.seed = seed
    }
    public func split<Item>(_ items: [Item]) throws -> (train: [Int], valid: [Int]) {
        let source = itemsSource(items, "RandomSplitter")
        guard validPct > 0 && validPct < 1 else {
            throw DataError(source, "RandomSplitter: validPct must be between 0 and 1 (exclusive), got \(validPct)")
        }
        let cut = Int((Double(items.count) * validPct).rounded())
        guard cut > 0 && cut < items.count else {
            throw DataError(
                source,
                "RandomSplitter: validPct \(validPct) of \(items.count) items leaves the "
                    + (cut == 0 ? "validation" : "training") + " split empty")
        }
        let generator = seed.map { RandomGenerator(seed: $0) } ?? RandomGenerator(seed: Random.withGlobal { $0.next() })
        let order = generator.permutation(items.count)
        return (order[cut...].sorted(), order[..<cut].sorted())
    }
}

/// Splits by a function of the item: `true` for validation items (fastai's `FuncSplitter`).
public struct FuncSplitter: Splitter {
    public let isValid: (URL) -> Bool
    public init(_ isValid: @escaping (URL) -> Bool) { self.isValid = isValid }
    public func split<Item>(_ items: [Item]) throws -> (train: [Int], valid: [Int]) {
        let items = try fileItems(items, "FuncSplitter")
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
    public func split<Item>(_ items: [Item]) throws -> (train: [Int], valid: [Int]) {
        let source = itemsSource(items, "IndexSplitter")
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

/// Splits a table's rows by a column that says which are for validation (fastai's
/// `ColSplitter('is_valid')`): true/false, 1/0 or "true"/"false"; a missing value is training.
public struct ColSplitter: Splitter {
    public let column: String
    public init(_ column: String = "is_valid") { self.column = column }
    public func split<Item>(_ items: [Item]) throws -> (train: [Int], valid: [Int]) {
        guard let rows = items as? [DataFrame.Row] else {
            throw DataError("ColSplitter", "ColSplitter splits a DataFrame's rows, but the items are \(Item.self)s")
        }
        guard let first = rows.first else { return ([], []) }
        let values = try first.frame.column(column)
        var train: [Int] = [], valid: [Int] = []
        for (position, row) in rows.enumerated() {
            let isValid: Bool
            if let number = values.number(row.index) {
                isValid = number != 0
            } else if let text = values.text(row.index)?.lowercased() {
                guard text == "true" || text == "false" else {
                    throw DataError("ColSplitter", "row \(row.index): column '\(column)' holds '\(text)', not true/false or 1/0")
                }
                isValid = text == "true"
            } else {
                isValid = false
            }
            if isValid { valid.append(position) } else { train.append(position) }
        }
        guard !train.isEmpty, !valid.isEmpty else {
            throw DataError("ColSplitter", "column '\(column)' puts all \(rows.count) rows in the \(train.isEmpty ? "validation" : "training") split")
        }
        return (train, valid)
    }
}

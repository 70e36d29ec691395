import Foundation
import Tensors

// How an item gets its label (fastai's `parent_label`, `RegexLabeller`, `ColReader`).

/// The name of an item's parent folder (fastai's `parent_label`): `.../training/3/10.png` → "3".
public func parentLabel(_ item: URL) -> String { item.deletingLastPathComponent().lastPathComponent }

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

/// Reads one column of a table's row, by position or by name, with an optional prefix and
/// suffix, or split into several labels at `labelDelimiter` (fastai's `ColReader`):
///
///     getX: ColReader("fname", prefix: path.appendingPathComponent("train").path + "/"),
///     getY: ColReader("labels", labelDelimiter: " ")
public struct ColReader: Sendable, CustomStringConvertible {
    /// Which column: its position in the row, or its name in a `DataFrame`.
    public enum Key: Sendable, Equatable {
        case index(Int)
        case name(String)
    }
    public let key: Key
    public let prefix: String, suffix: String
    /// The text between labels when a cell holds several (fastai's `label_delim`); then the
    /// prefix and suffix are not used.
    public let labelDelimiter: String?

    /// The column at position `column`.
    public init(_ column: Int, prefix: String = "", suffix: String = "", labelDelimiter: String? = nil) {
        self.init(key: .index(column), prefix: prefix, suffix: suffix, labelDelimiter: labelDelimiter)
    }

    /// The column named `name`.
    public init(_ name: String, prefix: String = "", suffix: String = "", labelDelimiter: String? = nil) {
        self.init(key: .name(name), prefix: prefix, suffix: suffix, labelDelimiter: labelDelimiter)
    }

    private init(key: Key, prefix: String, suffix: String, labelDelimiter: String?) {
        self.key = key
        self.prefix = prefix
        self.suffix = suffix
        self.labelDelimiter = labelDelimiter
    }

    /// `ColReader("fname")` or `ColReader(0)`.
    public var description: String {
        switch key {
        case .index(let i): return "ColReader(\(i))"
        case .name(let name): return "ColReader(\"\(name)\")"
        }
    }

    /// The column's value of a CSV `row` (read by position), with the prefix and suffix; throws
    /// naming the line when the row is too short or the reader names its column.
    public func callAsFunction(_ row: [String], line: Int, source: String) throws -> String {
        guard case .index(let column) = key else {
            throw DataError(source, "\(self) reads a DataFrame's column by name; a CSV row is read by position")
        }
        guard column >= 0, column < row.count else {
            throw DataError(source, "line \(line) has \(row.count) column(s); column \(column) was asked for")
        }
        return prefix + row[column] + suffix
    }

    /// The cell of `row` as text (nil when missing); throws naming the row when the table has
    /// no such column.
    public func text(_ row: DataFrame.Row) throws -> String? {
        let column: Column
        switch key {
        case .name(let name): column = try row.frame.column(name)
        case .index(let i):
            guard i >= 0, i < row.frame.columnNames.count else {
                throw DataError("row \(row.index)", "column \(i) was asked for; the table has \(row.frame.columnNames.count)")
            }
            column = try row.frame.column(row.frame.columnNames[i])
        }
        return column.text(row.index)
    }

    /// The cell of `row` with the prefix and suffix (fastai's `ColReader` without a delimiter);
    /// throws naming the row when the cell is missing.
    public func callAsFunction(_ row: DataFrame.Row) throws -> String {
        guard let text = try text(row) else { throw DataError("row \(row.index)", "the cell \(self) reads is missing") }
        return prefix + text + suffix
    }

    /// The labels in the cell of `row`, split at `labelDelimiter` (none for a missing or empty
    /// cell; the whole cell when there is no delimiter).
    public func labels(_ row: DataFrame.Row) throws -> [String] {
        try MultiCategoryBlock().label(fromText: try text(row), delimiter: labelDelimiter, source: "row \(row.index)")
    }
}

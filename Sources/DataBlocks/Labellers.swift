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

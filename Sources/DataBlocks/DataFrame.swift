import Foundation
import Tensors

/// The kind of values a `Column` holds (pandas' dtypes, as `read_csv` infers them).
public enum ColumnKind: String, Sendable, Codable {
    case integer, float, boolean, date, string
}

/// One column of a `DataFrame`: its values, typed, `nil` where a value is missing.
public enum Column: Equatable, Sendable {
    case integers([Int?])
    case floats([Double?])
    case booleans([Bool?])
    /// Dates and times (UTC).
    case dates([Date?])
    case strings([String?])

    /// The number of values, missing ones included.
    public var count: Int {
        switch self {
        case .integers(let v): return v.count
        case .floats(let v): return v.count
        case .booleans(let v): return v.count
        case .dates(let v): return v.count
        case .strings(let v): return v.count
        }
    }

    /// What the column holds.
    public var kind: ColumnKind {
        switch self {
        case .integers: return .integer
        case .floats: return .float
        case .booleans: return .boolean
        case .dates: return .date
        case .strings: return .string
        }
    }

    /// True for integers and floats (pandas' numeric dtypes; booleans are not numbers here).
    public var isNumeric: Bool { kind == .integer || kind == .float }

    /// Whether value `i` is missing.
    public func isMissing(_ i: Int) -> Bool {
        switch self {
        case .integers(let v): return v[i] == nil
        case .floats(let v): return v[i].map { $0.isNaN } ?? true
        case .booleans(let v): return v[i] == nil
        case .dates(let v): return v[i] == nil
        case .strings(let v): return v[i] == nil
        }
    }

    /// How many values are missing.
    public var missingCount: Int { (0..<count).filter(isMissing).count }

    /// Value `i` as a number (integers, floats; booleans as 0 and 1; dates as seconds since
    /// 1970), nil when missing or not numeric.
    public func number(_ i: Int) -> Double? {
        switch self {
        case .integers(let v): return v[i].map(Double.init)
        case .floats(let v): return v[i].flatMap { $0.isNaN ? nil : $0 }
        case .booleans(let v): return v[i].map { $0 ? 1 : 0 }
        case .dates(let v): return v[i].map(\.timeIntervalSince1970)
        case .strings: return nil
        }
    }

    /// Value `i` as text, as pandas prints it (`3`, `2.5`, `True`, `2024-01-31`), nil when missing.
    public func text(_ i: Int) -> String? {
        switch self {
        case .integers(let v): return v[i].map(String.init)
        case .floats(let v): return v[i].flatMap { $0.isNaN ? nil : Column.format($0) }
        case .booleans(let v): return v[i].map { $0 ? "True" : "False" }
        case .dates(let v): return v[i].map(Column.format)
        case .strings(let v): return v[i]
        }
    }

    /// The values at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Column {
        switch self {
        case .integers(let v): return .integers(indices.map { v[$0] })
        case .floats(let v): return .floats(indices.map { v[$0] })
        case .booleans(let v): return .booleans(indices.map { v[$0] })
        case .dates(let v): return .dates(indices.map { v[$0] })
        case .strings(let v): return .strings(indices.map { v[$0] })
        }
    }

    /// The distinct values that are not missing, as text, sorted as their kind sorts (numbers
    /// by value, dates in time, text by code point): fastai's `CategoryMap` order.
    public var sortedUniqueTexts: [String] {
        switch self {
        case .integers(let v): return Set(v.compactMap { $0 }).sorted().map(String.init)
        case .floats(let v): return Set(v.compactMap { $0 }.filter { !$0.isNaN }).sorted().map(Column.format)
        case .booleans(let v): return Set(v.compactMap { $0 }).sorted { !$0 && $1 }.map { $0 ? "True" : "False" }
        case .dates(let v): return Set(v.compactMap { $0 }).sorted().map(Column.format)
        case .strings(let v): return Set(v.compactMap { $0 }).sorted()
        }
    }

    /// A float as pandas prints it: `2.0`, `0.1`, `1e-07`.
    public static func formatted(_ x: Double) -> String { format(x) }

    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e16 { return String(format: "%.1f", x) }
        return "\(x)"
    }

    /// A date as `2024-01-31`, or `2024-01-31 08:30:00` when it has a time of day (UTC).
    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        if c.hour == 0 && c.minute == 0 && c.second == 0 { return day }
        return day + String(format: " %02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }
}

/// A table of named, typed columns of equal length (what fastai reads with pandas):
///
///     var df = try DataFrame.readCSV(path.appendingPathComponent("adult.csv"))
///     print(df)                                  // the first rows, as pandas prints them
///     let (cont, cat) = contCatSplit(df, maxCard: 20, depVar: "salary")
public struct DataFrame: CustomStringConvertible, Sendable {
    /// The column names, in order.
    public private(set) var columnNames: [String]
    private var columns: [String: Column]
    /// The number of rows.
    public private(set) var rowCount: Int

    /// A table of the given columns, in order; throws when they differ in length or a name repeats.
    public init(_ columns: [(name: String, column: Column)]) throws {
        self.columnNames = []
        self.columns = [:]
        rowCount = columns.first?.column.count ?? 0
        for (name, column) in columns { try setColumn(name, column) }
    }

    /// The column named `name`, nil when there is none.
    public subscript(_ name: String) -> Column? { columns[name] }

    /// The column named `name`; throws naming the columns there are when there is none.
    public func column(_ name: String) throws -> Column {
        guard let column = columns[name] else {
            throw DataError("DataFrame", "no column named '\(name)' (the columns are \(columnNames))")
        }
        return column
    }

    /// Adds a column at the end, or replaces the one of that name; throws when its length
    /// differs from the table's.
    public mutating func setColumn(_ name: String, _ column: Column) throws {
        if columnNames.isEmpty { rowCount = column.count }
        guard column.count == rowCount else {
            throw DataError("DataFrame", "column '\(name)' has \(column.count) values, the table has \(rowCount) rows")
        }
        if columns[name] == nil { columnNames.append(name) }
        columns[name] = column
    }

    /// Removes the column named `name` (nothing when there is none).
    public mutating func removeColumn(_ name: String) {
        columns[name] = nil
        columnNames.removeAll { $0 == name }
    }

    /// The rows at `indices`, in that order (pandas' `df.iloc[indices]`).
    public func rows(_ indices: [Int]) -> DataFrame {
        var result = self
        for name in columnNames { result.columns[name] = columns[name]!.rows(indices) }
        result.rowCount = indices.count
        return result
    }

    /// The first `n` rows as text, aligned as pandas prints a table (`NaN` for a missing value).
    public func head(_ n: Int = 5) -> String {
        let shown = min(n, rowCount)
        var table = [[""] + columnNames]
        for i in 0..<shown {
            table.append(["\(i)"] + columnNames.map { name in columns[name]!.text(i) ?? "NaN" })
        }
        let widths = table[0].indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.map { row in
            zip(row, widths).map { cell, width in String(repeating: " ", count: width - cell.count) + cell }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    public var description: String { head() + "\n[\(rowCount) rows x \(columnNames.count) columns]" }
}

extension DataFrame {
    /// One row of a table, the item of a `DataBlock` built over a `DataFrame` (what fastai's
    /// `getX`/`getY` get from `df.iloc[i]`). It holds the table (shared, not copied).
    public struct Row: Sendable {
        public let frame: DataFrame
        /// The row's position in the table.
        public let index: Int

        /// The cell in the column named `name` as text (pandas' printing), nil when missing or
        /// when there is no such column.
        public subscript(_ name: String) -> String? { frame[name]?.text(index) }
    }

    /// Every row, in order.
    public var rowItems: [Row] { (0..<rowCount).map { Row(frame: self, index: $0) } }
}

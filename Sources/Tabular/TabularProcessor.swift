import DataBlocks
import Foundation
import Tensors

/// A preprocessing step of a table (fastai's tabular procs): `.categorify`, `.fillMissing`,
/// `.normalize`. Whatever the order given, they run as fastai's do: fill missing values, then
/// categorify, then normalise; each learns its state from the training rows only.
public struct TabularProc: Equatable, Sendable, Codable {
    enum Kind: String, Codable { case categorify, fillMissing, normalize }
    let kind: Kind
    /// How `fillMissing` picks the value it fills with.
    public let fillStrategy: FillStrategy
    /// Whether `fillMissing` adds a `<column>_na` category saying the value was missing.
    public let addColumn: Bool

    /// Categorical columns become indices into a vocab of the training rows' values, sorted, with
    /// `#na#` at 0 for a missing or unseen value (fastai's `Categorify`).
    public static let categorify = TabularProc(kind: .categorify, fillStrategy: .median, addColumn: true)
    /// Missing values of continuous columns are filled with the training rows' median, and a
    /// `<column>_na` category column says which were missing (fastai's `FillMissing`).
    public static let fillMissing = TabularProc(kind: .fillMissing, fillStrategy: .median, addColumn: true)
    /// Continuous columns are standardised with the training rows' mean and standard deviation
    /// (fastai's tabular `Normalize`).
    public static let normalize = TabularProc(kind: .normalize, fillStrategy: .median, addColumn: true)

    /// `fillMissing` with another strategy, or without the `_na` column.
    public static func fillMissing(_ strategy: FillStrategy, addColumn: Bool = true) -> TabularProc {
        TabularProc(kind: .fillMissing, fillStrategy: strategy, addColumn: addColumn)
    }
}

/// How `TabularProc.fillMissing` picks the value it fills a column's missing values with
/// (fastai's `FillStrategy`), from the training rows.
public enum FillStrategy: Equatable, Sendable, Codable {
    /// The median of the column's present values.
    case median
    /// The most frequent value (the smallest of the most frequent, as pandas' `idxmax`).
    case mode
    /// A constant.
    case constant(Double)
}

/// What the target column is: classes (fastai's `CategoryBlock`) or values (`RegressionBlock`).
/// By default a numeric column is values and any other classes.
public enum TabularTarget: String, Sendable, Codable {
    case classes, values
}

/// A table's preprocessing, learned from its training rows (fastai's `TabularPandas` with its
/// procs set up): which columns are categorical and continuous, the vocab of each categorical
/// column, the fill values and the normalisation statistics, and the target's kind and classes.
/// It turns any table with those columns (training, validation, new rows) into the model's
/// input `[N, categorical + continuous]`, exactly as it did the training rows, and back.
public struct TabularProcessor: Sendable, Codable, Equatable {
    /// The categorical columns, in the model's order: those given, then the `<column>_na` ones
    /// `fillMissing` added.
    public let catNames: [String]
    /// The continuous columns, in the model's order.
    public let contNames: [String]
    /// The target column, nil for a table without one.
    public let yName: String?
    /// The procs, in the order they run.
    public let procs: [TabularProc]
    /// Each categorical column's vocab, `#na#` first when categorified.
    public let classes: [String: [String]]
    /// The kind each given categorical column had in the training table (to read new values alike).
    public let catKinds: [String: ColumnKind]
    /// Each continuous column's fill value (only the columns that had missing training values).
    public let fillValues: [String: Double]
    /// Each continuous column's mean and standard deviation, when normalised.
    public let means: [String: Double], stds: [String: Double]
    /// The target's kind.
    public let target: TabularTarget
    /// The target's classes, sorted (for `.classes`).
    public let targetClasses: [String]

    /// The name of the missing-value marker column of `column`.
    public static func missingColumn(_ column: String) -> String { column + "_na" }

    /// Learns the procs' state from `train` (the training rows).
    ///
    /// - Parameters:
    ///   - train: the training rows, which alone the procs learn from.
    ///   - catNames: the categorical columns.
    ///   - contNames: the continuous columns (numbers; booleans count as 0 and 1).
    ///   - yName: the target column, if any.
    ///   - procs: the procs to apply; they run in fastai's order (fill, categorify, normalise).
    ///   - target: the target's kind (by default: values for a numeric column, else classes).
    ///   - source: how errors name the table.
    public init(
        _ train: DataFrame, catNames: [String], contNames: [String], yName: String?, procs: [TabularProc], target: TabularTarget? = nil,
        source: String = "table"
    ) throws {
        let order: [TabularProc.Kind] = [.fillMissing, .categorify, .normalize]
        let ordered = order.compactMap { kind in procs.last { $0.kind == kind } }
        self.procs = ordered
        self.contNames = contNames
        self.yName = yName
        let overlap = Set(catNames).intersection(contNames).union(yName.map { Set(catNames + contNames).intersection([$0]) } ?? [])
        guard overlap.isEmpty else { throw DataError(source, "columns \(overlap.sorted()) are named in more than one of catNames, contNames and yNames") }
        for name in catNames + contNames + (yName.map { [$0] } ?? []) { _ = try train.column(name) }
        var catKinds: [String: ColumnKind] = [:]
        for name in catNames { catKinds[name] = try train.column(name).kind }
        self.catKinds = catKinds

        // Fill values from the training rows' continuous columns that have missing values.
        var fillValues: [String: Double] = [:], names = catNames
        if let fill = ordered.first(where: { $0.kind == .fillMissing }) {
            for name in contNames {
                let values = try Self.numbers(train, name, source: source)
                let present = values.compactMap { $0 }
                guard present.count < values.count else { continue }
                fillValues[name] = Self.fillValue(present, fill.fillStrategy)
                if fill.addColumn { names.append(Self.missingColumn(name)) }
            }
        }
        self.fillValues = fillValues
        self.catNames = names

        // Vocabularies of the categorical columns, from the training rows.
        var classes: [String: [String]] = [:]
        if !names.isEmpty {
            guard ordered.contains(where: { $0.kind == .categorify }) else {
                throw DataError(source, "categorical columns \(names) need .categorify among the procs to become indices")
            }
            for name in names {
                if let column = train[name] {
                    classes[name] = ["#na#"] + column.sortedUniqueTexts
                } else {
                    classes[name] = ["#na#", "False", "True"]  // a `_na` column
                }
            }
        }
        self.classes = classes

        // Normalisation statistics, after filling (population standard deviation + 1e-7, as fastai).
        var means: [String: Double] = [:], stds: [String: Double] = [:]
        if ordered.contains(where: { $0.kind == .normalize }) {
            for name in contNames {
                let values = try Self.numbers(train, name, source: source).map { $0 ?? fillValues[name] ?? .nan }.filter { !$0.isNaN }
                let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
                let variance = values.isEmpty ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
                means[name] = mean
                stds[name] = variance.squareRoot() + 1e-7
            }
        }
        self.means = means
        self.stds = stds

        // The target: classes or values.
        if let yName {
            let column = try train.column(yName)
            let kind = target ?? (column.isNumeric ? .values : .classes)
            self.target = kind
            targetClasses = kind == .classes ? column.sortedUniqueTexts : []
        } else {
            self.target = .values
            targetClasses = []
        }
    }

    /// The model's input width: categorical then continuous columns.
    public var width: Int { catNames.count + contNames.count }

    /// The model's output size: the number of classes, or 1 for a value.
    public var outputs: Int { target == .classes ? targetClasses.count : 1 }

    /// The inputs `[N, categorical + continuous]` of `table`'s rows (each categorical column as
    /// its vocab index, `#na#` for a missing or unseen value; each continuous column filled and
    /// normalised), and its targets `[N]` (class indices or values) when it has the target
    /// column. Throws naming the row and the column for a value that cannot be used: text in a
    /// continuous column, a missing value in a continuous column the training rows never missed,
    /// a missing target, a class the training rows did not have.
    public func encode(_ table: DataFrame, source: String = "table") throws -> (inputs: Tensor, targets: Tensor?) {
        let n = table.rowCount, width = self.width
        var x = [Float](repeating: 0, count: n * width)
        for (c, name) in catNames.enumerated() {
            let vocab = classes[name] ?? []
            let index = Dictionary(vocab.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            if let column = table[name] {
                let kind = catKinds[name] ?? column.kind
                for i in 0..<n {
                    let text = column.text(i).map { Self.canonical($0, as: kind) }
                    x[i * width + c] = Float(text.flatMap { index[$0] } ?? 0)
                }
            } else if name.hasSuffix("_na"), let base = table[String(name.dropLast(3))] {
                for i in 0..<n { x[i * width + c] = Float(index[base.isMissing(i) ? "True" : "False"] ?? 0) }
            } else {
                throw DataError(source, "no column named '\(name)' (the columns are \(table.columnNames))")
            }
        }
        for (k, name) in contNames.enumerated() {
            let values = try Self.numbers(table, name, source: source)
            let (mean, std) = (means[name] ?? 0, stds[name] ?? 1)
            let normalizes = means[name] != nil
            for i in 0..<n {
                guard let value = values[i] ?? fillValues[name] else {
                    throw DataError(
                        source,
                        "row \(i + 1), column '\(name)': a missing value, but the training rows had none in this column, "
                            + "so .fillMissing has no fill value for it")
                }
                x[i * width + catNames.count + k] = Float(normalizes ? (value - mean) / std : value)
            }
        }
        let inputs = Tensor(shape: [n, width], scalars: x)
        guard let yName, let column = table[yName] else { return (inputs, nil) }
        var y = [Float](repeating: 0, count: n)
        let classIndex = Dictionary(targetClasses.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        for i in 0..<n {
            guard !column.isMissing(i) else { throw DataError(source, "row \(i + 1), column '\(yName)': the target is missing") }
            switch target {
            case .classes:
                let text = column.text(i)!
                guard let c = classIndex[text] else {
                    throw DataError(source, "row \(i + 1), column '\(yName)': class '\(text)' is not among the training rows' \(targetClasses)")
                }
                y[i] = Float(c)
            case .values:
                guard let value = column.number(i) else {
                    throw DataError(source, "row \(i + 1), column '\(yName)': '\(column.text(i) ?? "")' is not a number")
                }
                y[i] = Float(value)
            }
        }
        return (inputs, Tensor(y))
    }

    /// One row of inputs (`width` values) decoded to text, column by column: categories by name,
    /// continuous values unnormalised.
    public func decode(_ row: [Float]) -> [(column: String, value: String)] {
        var result: [(String, String)] = []
        for (c, name) in catNames.enumerated() {
            let vocab = classes[name] ?? []
            let i = Int(row[c])
            result.append((name, i >= 0 && i < vocab.count ? vocab[i] : "\(i)"))
        }
        for (k, name) in contNames.enumerated() {
            let value = Double(row[catNames.count + k])
            let raw = means[name].map { value * (stds[name] ?? 1) + $0 } ?? value
            result.append((name, String(format: "%g", raw)))
        }
        return result
    }

    /// A target decoded: its class, or its value as text.
    public func decodeTarget(_ value: Float) -> String {
        guard target == .classes else { return String(format: "%g", value) }
        let i = Int(value)
        return i >= 0 && i < targetClasses.count ? targetClasses[i] : "\(i)"
    }

    /// A table of one row from text values by column name (what `predict(row:)` takes): each
    /// column read as the training table's column of that name was.
    func table(fromRow row: [String: String], source: String) throws -> DataFrame {
        var columns: [(name: String, column: Column)] = []
        for name in catNames where catKinds[name] != nil {
            guard let text = row[name] else { throw DataError(source, "the row has no value for column '\(name)' (give \(catNames + contNames))") }
            columns.append((name, .strings([DataFrame.missingMarkers.contains(text) ? nil : text])))
        }
        for name in contNames {
            guard let text = row[name] else { throw DataError(source, "the row has no value for column '\(name)' (give \(catNames + contNames))") }
            if DataFrame.missingMarkers.contains(text) {
                columns.append((name, .floats([nil])))
            } else if let value = Double(text.trimmingCharacters(in: .whitespaces)) {
                columns.append((name, .floats([value])))
            } else {
                throw DataError(source, "column '\(name)': '\(text)' is not a number")
            }
        }
        return try DataFrame(columns)
    }

    /// Column `name` of `table` as numbers (nil where missing); throws naming the first row whose
    /// value is not a number.
    static func numbers(_ table: DataFrame, _ name: String, source: String) throws -> [Double?] {
        let column = try table.column(name)
        switch column {
        case .integers, .floats, .booleans:
            return (0..<column.count).map { column.number($0) }
        case .dates:
            throw DataError(source, "column '\(name)' holds dates: split them with addDatePart before using it as continuous")
        case .strings(let values):
            var result: [Double?] = []
            for (i, text) in values.enumerated() {
                guard let text else { result.append(nil); continue }
                guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                    throw DataError(source, "row \(i + 1), column '\(name)': '\(text)' is not a number (a continuous column must hold numbers)")
                }
                result.append(value)
            }
            return result
        }
    }

    /// The fill value of the present values `values` (not empty).
    static func fillValue(_ values: [Double], _ strategy: FillStrategy) -> Double {
        switch strategy {
        case .constant(let c): return c
        case .median:
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted(), m = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
        case .mode:
            let counts = Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +)
            let top = counts.values.max() ?? 0
            return counts.filter { $0.value == top }.keys.min() ?? 0
        }
    }

    /// `text` as a column of `kind` prints its values (a row's `3` for a float column is `3.0`).
    static func canonical(_ text: String, as kind: ColumnKind) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .integer: return Int(trimmed).map(String.init) ?? Double(trimmed).flatMap { $0 == $0.rounded() ? String(Int($0)) : nil } ?? text
        case .float: return Double(trimmed).map(Column.formatted) ?? text
        case .boolean: return ["true": "True", "false": "False"][trimmed.lowercased()] ?? text
        case .date, .string: return text
        }
    }
}

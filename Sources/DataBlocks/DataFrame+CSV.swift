import Codecs
import Foundation
import Tensors

extension DataFrame {
    /// The texts read as a missing value (pandas' `read_csv` defaults).
    public static let missingMarkers: Set<String> = [
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
        "NULL", "NaN", "None", "n/a", "nan", "null",
    ]

    /// A table from a CSV file with a header row (pandas' `read_csv`): quoted fields may hold
    /// commas, quotes (`""`) and line breaks; each column's kind is inferred from all its values
    /// as pandas infers it (integers, else floats, else booleans `True`/`False`, else ISO dates
    /// `2024-01-31` (with a time, `2024-01-31 08:30:00`), else text), a missing value being one
    /// of `missing`; a column of integers with a missing value is floats, as in pandas.
    /// `skipInitialSpace` drops the spaces after each comma (fastai's `from_csv` default).
    /// Throws naming the file and the row for a row with more or fewer fields than the header.
    public static func readCSV(_ file: URL, missing: Set<String> = missingMarkers, skipInitialSpace: Bool = true) throws -> DataFrame {
        let bytes = try readFileBytes(file)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw DataError(file.path, "the CSV file is not UTF-8 text") }
        return try parseCSV(text, source: file.path, missing: missing, skipInitialSpace: skipInitialSpace)
    }

    /// A table from CSV text (see `readCSV`); `source` names it in errors.
    public static func parseCSV(
        _ text: String, source: String = "CSV", missing: Set<String> = missingMarkers, skipInitialSpace: Bool = true
    ) throws -> DataFrame {
        var rows = try CSVTable.parse(text, source: source)
        guard !rows.isEmpty else { throw DataError(source, "the CSV file is empty: no header row") }
        let header = rows.removeFirst().enumerated().map { i, name -> String in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? "Unnamed: \(i)" : trimmed
        }
        let repeated = Dictionary(grouping: header, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        guard repeated.isEmpty else { throw DataError(source, "the header names these columns more than once: \(repeated)") }
        var fields = [[String]](repeating: [], count: header.count)
        for c in fields.indices { fields[c].reserveCapacity(rows.count) }
        for (r, row) in rows.enumerated() {
            guard row.count == header.count else {
                throw DataError(source, "row \(r + 1) (after the header) has \(row.count) field(s); the header has \(header.count)")
            }
            for (c, field) in row.enumerated() { fields[c].append(skipInitialSpace ? String(field.drop { $0 == " " }) : field) }
        }
        return try DataFrame(zip(header, fields).map { ($0, inferColumn($1, missing: missing)) })
    }

    /// A column of texts typed as `read_csv` would type it.
    static func inferColumn(_ texts: [String], missing: Set<String>) -> Column {
        let present = texts.filter { !missing.contains($0) }
        let hasMissing = present.count < texts.count
        func values<T>(_ parse: (String) -> T?) -> [T?]? {
            var result: [T?] = []
            result.reserveCapacity(texts.count)
            for text in texts {
                if missing.contains(text) { result.append(nil); continue }
                guard let value = parse(text) else { return nil }
                result.append(value)
            }
            return result
        }
        if !present.isEmpty, let ints = values({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            return hasMissing ? .floats(ints.map { $0.map(Double.init) }) : .integers(ints)
        }
        if !present.isEmpty, let doubles = values(parseFloat) { return .floats(doubles) }
        if !present.isEmpty, let bools = values(parseBool) { return .booleans(bools) }
        if !present.isEmpty, let dates = values(parseDate) { return .dates(dates) }
        if present.isEmpty { return .floats(texts.map { _ in nil }) }  // all missing: pandas reads NaN floats
        return .strings(texts.map { missing.contains($0) ? nil : $0 })
    }

    /// A float as `read_csv` reads one: decimal or scientific notation, `inf`; not hex.
    static func parseFloat(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, !t.lowercased().hasPrefix("0x"), !t.lowercased().contains("nan") else { return nil }
        return Double(t)
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "True", "TRUE", "true": return true
        case "False", "FALSE", "false": return false
        default: return nil
        }
    }

    /// An ISO date, `yyyy-mm-dd`, with an optional time `HH:MM` or `HH:MM:SS` after a space or
    /// a `T`, read as UTC; nil for anything else or an impossible date.
    public static func date(from text: String) -> Date? { parseDate(text) }

    static func parseDate(_ text: String) -> Date? {
        let scalars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            var value = 0
            for b in scalars[range] {
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard scalars.count >= 10, scalars[4] == 45, scalars[7] == 45,
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10)
        else { return nil }
        var hour = 0, minute = 0, second = 0
        if scalars.count > 10 {
            guard scalars[10] == 32 || scalars[10] == 84, scalars.count == 16 || scalars.count == 19, scalars[13] == 58,
                let h = number(11..<13), let m = number(14..<16)
            else { return nil }
            (hour, minute) = (h, m)
            if scalars.count == 19 {
                guard scalars[16] == 58, let s = number(17..<19) else { return nil }
                second = s
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60,
            let date = calendar.date(from: components),
            calendar.component(.day, from: date) == day  // 2023-02-30 is not a date
        else { return nil }
        return date
    }
}

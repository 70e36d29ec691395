import DataBlocks
import Foundation
import Tensors

/// fastai's `cont_cat_split`: the table's continuous and categorical columns, the target left
/// out. A float column is continuous, and so is an integer column with more than `maxCard`
/// distinct values; every other column (text, booleans, dates, integers of few values) is
/// categorical.
public func contCatSplit(_ df: DataFrame, maxCard: Int = 20, depVar: String? = nil) -> (cont: [String], cat: [String]) {
    var cont: [String] = [], cat: [String] = []
    for name in df.columnNames where name != depVar {
        let column = df[name]!
        switch column {
        case .floats: cont.append(name)
        case .integers(let values) where Set(values).count > maxCard: cont.append(name)
        default: cat.append(name)
        }
    }
    return (cont, cat)
}

/// fastai's `add_datepart`: replaces a date column by its parts, named after it without a
/// trailing `Date`/`date` (`saledate` → `saleYear`, `saleMonth`, ...): `Year`, `Month`, `Week`
/// (ISO week), `Day`, `Dayofweek` (Monday 0), `Dayofyear`, `Is_month_end`, `Is_month_start`,
/// `Is_quarter_end`, `Is_quarter_start`, `Is_year_end`, `Is_year_start`, and `Elapsed` (seconds
/// since 1970); with `time`, `Hour`, `Minute` and `Second` too. A text column is read as ISO
/// dates first. A part of a missing date is missing (the integer parts are then floats, as pandas).
public func addDatePart(_ df: inout DataFrame, _ fieldName: String, prefix: String? = nil, drop: Bool = true, time: Bool = false) throws {
    let dates: [Date?]
    switch try df.column(fieldName) {
    case .dates(let values): dates = values
    case .strings(let texts):
        dates = try texts.enumerated().map { i, text in
            guard let text else { return nil }
            guard let date = DataFrame.date(from: text) else {
                throw DataError("DataFrame", "row \(i + 1), column '\(fieldName)': '\(text)' is not a date (yyyy-mm-dd)")
            }
            return date
        }
    default:
        throw DataError("DataFrame", "column '\(fieldName)' does not hold dates")
    }
    let prefix = prefix ?? (fieldName.hasSuffix("Date") || fieldName.hasSuffix("date") ? String(fieldName.dropLast(4)) : fieldName)
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    var iso = Calendar(identifier: .iso8601)
    iso.timeZone = calendar.timeZone
    func integers(_ part: (Date) -> Int) -> Column {
        let values = dates.map { $0.map(part) }
        return values.contains(nil) ? .floats(values.map { $0.map(Double.init) }) : .integers(values)
    }
    func flags(_ test: (Date) -> Bool) -> Column { .booleans(dates.map { $0.map(test) }) }
    func dayAfter(_ d: Date) -> DateComponents { calendar.dateComponents([.year, .month, .day], from: d.addingTimeInterval(86_400)) }
    func isQuarterStart(_ month: Int?) -> Bool { [1, 4, 7, 10].contains(month ?? 0) }
    var parts: [(String, Column)] = [
        ("Year", integers { calendar.component(.year, from: $0) }),
        ("Month", integers { calendar.component(.month, from: $0) }),
        ("Week", integers { iso.component(.weekOfYear, from: $0) }),
        ("Day", integers { calendar.component(.day, from: $0) }),
        ("Dayofweek", integers { (calendar.component(.weekday, from: $0) + 5) % 7 }),  // Sunday 1 → 6, Monday 2 → 0
        ("Dayofyear", integers { calendar.ordinality(of: .day, in: .year, for: $0) ?? 0 }),
        ("Is_month_end", flags { dayAfter($0).day == 1 }),
        ("Is_month_start", flags { calendar.component(.day, from: $0) == 1 }),
        ("Is_quarter_end", flags { dayAfter($0).day == 1 && isQuarterStart(dayAfter($0).month) }),
        ("Is_quarter_start", flags { calendar.component(.day, from: $0) == 1 && isQuarterStart(calendar.component(.month, from: $0)) }),
        ("Is_year_end", flags { dayAfter($0).day == 1 && dayAfter($0).month == 1 }),
        ("Is_year_start", flags { calendar.component(.day, from: $0) == 1 && calendar.component(.month, from: $0) == 1 }),
    ]
    if time {
        parts += [
            ("Hour", integers { calendar.component(.hour, from: $0) }), ("Minute", integers { calendar.component(.minute, from: $0) }),
            ("Second", integers { calendar.component(.second, from: $0) }),
        ]
    }
    parts.append(("Elapsed", .floats(dates.map { $0.map { ($0.timeIntervalSince1970).rounded(.down) } })))
    for (name, column) in parts { try df.setColumn(prefix + name, column) }
    if drop { df.removeColumn(fieldName) }
}

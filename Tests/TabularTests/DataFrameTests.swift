import Foundation
import XCTest
@testable import DataBlocks
@testable import Tabular
@testable import Tensors

/// Tables read from CSV as pandas reads them, and fastai's table helpers.
final class DataFrameTests: XCTestCase {
    func testColumnKindsAreInferredAsPandasInfersThem() throws {
        let csv = #"""
            id,name,score,passed,when,note,empty
            1,"Smith, Anna",3.5,True,2024-01-31,"two
            lines",
            2,Bob,NA,False,2024-02-29 08:30:00,"she said ""hi""",
            3,,7,true,,plain,NaN
            """#
        let df = try DataFrame.parseCSV(csv)
        XCTAssertEqual(df.columnNames, ["id", "name", "score", "passed", "when", "note", "empty"])
        XCTAssertEqual(df.rowCount, 3)
        XCTAssertEqual(df["id"], .integers([1, 2, 3]))
        XCTAssertEqual(df["name"], .strings(["Smith, Anna", "Bob", nil]))
        XCTAssertEqual(df["score"], .floats([3.5, nil, 7]), "an integer column with a missing value is floats, as in pandas")
        XCTAssertEqual(df["passed"], .booleans([true, false, true]))
        XCTAssertEqual(df["note"], .strings(["two\nlines", "she said \"hi\"", "plain"]))
        XCTAssertEqual(df["empty"]?.kind, .float, "an all-missing column is NaN floats")
        XCTAssertEqual(df["when"]?.kind, .date)
        XCTAssertEqual(df["when"]?.text(0), "2024-01-31")
        XCTAssertEqual(df["when"]?.text(1), "2024-02-29 08:30:00")
        XCTAssertTrue(df["when"]?.isMissing(2) == true)
        XCTAssertTrue(df.description.contains("[3 rows x 7 columns]"), df.description)
        // Not a date: February 30th; an integer column with a float is floats.
        let other = try DataFrame.parseCSV("a,b\n2023-02-30,1\n2023-02-28,2.5\n")
        XCTAssertEqual(other["a"]?.kind, .string)
        XCTAssertEqual(other["b"], .floats([1, 2.5]))
    }

    func testMalformedTablesAreErrorsThatSayWhere() throws {
        XCTAssertThrowsError(try DataFrame.parseCSV("a,b\n1,2\n3\n", source: "t.csv")) { error in
            XCTAssertEqual("\(error)", "t.csv: row 2 (after the header) has 1 field(s); the header has 2")
        }
        XCTAssertThrowsError(try DataFrame.parseCSV("a,b,a\n1,2,3\n", source: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("more than once: [\"a\"]"), "\(error)")
        }
        XCTAssertThrowsError(try DataFrame.parseCSV("a,b\n\"1,2\n", source: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("not closed"), "\(error)")
        }
        XCTAssertThrowsError(try DataFrame.readCSV(URL(fileURLWithPath: "/nonexistent/t.csv"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/t.csv: cannot read the file"), "\(error)")
        }
        let df = try DataFrame.parseCSV("a,b\n1,2\n")
        XCTAssertThrowsError(try df.column("c")) { XCTAssertTrue("\($0)".contains("no column named 'c'"), "\($0)") }
    }

    func testContCatSplitAndAddDatePartMatchFastai() throws {
        let reference = try TabularReference.load()
        let df = try DataFrame.readCSV(TabularReference.folder.appendingPathComponent("procs_table.csv"))
        let (cont, cat) = contCatSplit(df, maxCard: 4, depVar: "label")
        let expected = try XCTUnwrap(reference["cont_cat_split"] as? [String: [String]])
        XCTAssertEqual(cont, expected["cont"])
        XCTAssertEqual(cat, expected["cat"])

        var dates = try DataFrame([("saledate", .strings(["2024-02-29", "2023-12-31", "2021-01-04", "2020-03-31", "2022-07-01"]))])
        try addDatePart(&dates, "saledate")
        let parts = try XCTUnwrap(reference["date_parts"] as? [String: [Any]])
        XCTAssertEqual(Set(dates.columnNames), Set(parts.keys))
        // Elapsed is seconds since 1970 (fastai's intent: nanoseconds // 10⁹); with pandas 2, whose
        // to_datetime keeps these dates in microseconds, fastai itself gives thousands of seconds.
        XCTAssertEqual(try dates.column("saleElapsed"), .floats([1_709_164_800, 1_703_980_800, 1_609_718_400, 1_585_612_800, 1_656_633_600]))
        for (name, values) in parts where name != "saleElapsed" {
            let column = try dates.column(name)
            for (i, value) in values.enumerated() {
                if let flag = value as? Bool, column.kind == .boolean {
                    XCTAssertEqual(column.number(i), flag ? 1 : 0, "\(name)[\(i)]")
                } else {
                    XCTAssertEqual(column.number(i), (value as? NSNumber)?.doubleValue, "\(name)[\(i)]")
                }
            }
        }
    }
}

/// The committed fastai reference of `Tests/Fixtures/make_tabular_reference.py`.
enum TabularReference {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static func load() throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("tabular_reference.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

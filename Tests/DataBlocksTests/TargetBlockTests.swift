import XCTest
@testable import DataBlocks
import Layers
@testable import Tensors

/// The target blocks' encodings, `ColReader` over a table's rows and `ColSplitter`.
final class TargetBlockTests: XCTestCase {
    func testMultiCategoryOneHotRoundTrips() throws {
        let block = MultiCategoryBlock()
        let labels = [["dog", "person"], [], ["cat"], ["person", "dog", "dog"]]
        let vocab = try XCTUnwrap(block.makeVocab(labels))
        XCTAssertEqual(vocab, ["cat", "dog", "person"])
        let encoded = try block.encode(labels, vocab: vocab, sources: ["a", "b", "c", "d"])
        XCTAssertEqual(encoded.shape, [4, 3])
        XCTAssertEqual(encoded.scalars, [0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1])
        XCTAssertEqual((0..<4).map { block.decode(encoded[$0], vocab: vocab) }, [["dog", "person"], [], ["cat"], ["dog", "person"]])
        XCTAssertEqual(block.describe(encoded[0], vocab: vocab), "dog;person")
        XCTAssertThrowsError(try block.encode([["bird"]], vocab: vocab, sources: ["x.png"])) { error in
            XCTAssertEqual("\(error)", #"x.png: label 'bird' is not in the vocab ["cat", "dog", "person"]"#)
        }
        XCTAssertEqual(try block.label(fromText: "dog  person", delimiter: " ", source: "row 0"), ["dog", "person"])
        XCTAssertEqual(try block.label(fromText: nil, delimiter: " ", source: "row 0"), [])
    }

    func testCategoryAndRegressionBlocks() throws {
        let category = CategoryBlock()
        XCTAssertEqual(category.makeVocab(["b", "a", "b"]), ["a", "b"])
        XCTAssertEqual(try category.encode(["b", "a"], vocab: ["a", "b"], sources: ["1", "2"]).scalars, [1, 0])
        XCTAssertEqual(category.describe(Tensor(1), vocab: ["a", "b"]), "b")
        XCTAssertTrue(category.loss is CrossEntropyLossFlat)

        let regression = RegressionBlock()
        XCTAssertNil(regression.makeVocab([[1]]))
        let values = try regression.encode([[1, 2], [3, 4]], vocab: nil, sources: ["a", "b"])
        XCTAssertEqual(values.shape, [2, 2])
        XCTAssertThrowsError(try regression.encode([[1, 2], [3]], vocab: nil, sources: ["a", "b"])) { error in
            XCTAssertEqual("\(error)", "b: 1 value(s) for a RegressionBlock of 2 (every item needs the same count)")
        }
        XCTAssertThrowsError(try regression.encode([[.nan]], vocab: nil, sources: ["a"]))
        XCTAssertEqual(try regression.label(fromText: "1.5 -2", delimiter: nil, source: "r"), [1.5, -2])
        XCTAssertThrowsError(try regression.label(fromText: "1.5;x", delimiter: ";", source: "row 3")) { error in
            XCTAssertEqual("\(error)", "row 3: 'x' is not a number")
        }
        XCTAssertTrue(regression.loss is MSELossFlat)
        XCTAssertTrue(MultiCategoryBlock().loss is BCEWithLogitsLossFlat)
    }

    func testColReaderAndColSplitterOverATable() throws {
        let table = try DataFrame.parseCSV(
            """
            fname,labels,is_valid
            a.png,dog person,False
            b.png,,True
            c.png,cat,False
            """)
        let rows = table.rowItems
        XCTAssertEqual(try ColReader("fname", prefix: "/data/", suffix: ".x")(rows[1]), "/data/b.png.x")
        XCTAssertEqual(try ColReader(0)(rows[2]), "c.png")
        XCTAssertEqual(try ColReader("labels", labelDelimiter: " ").labels(rows[0]), ["dog", "person"])
        XCTAssertEqual(try ColReader("labels", labelDelimiter: " ").labels(rows[1]), [], "an empty cell is no label")
        XCTAssertThrowsError(try ColReader("label")(rows[0])) { error in
            XCTAssertTrue("\(error)".contains("no column named 'label'"), "\(error)")
        }
        XCTAssertThrowsError(try ColReader("labels")(rows[1])) { error in
            XCTAssertEqual("\(error)", #"row 1: the cell ColReader("labels") reads is missing"#)
        }
        let split = try ColSplitter("is_valid").split(rows)
        XCTAssertEqual(split.train, [0, 2])
        XCTAssertEqual(split.valid, [1])
        XCTAssertThrowsError(try ColSplitter("fname").split(rows)) { error in
            XCTAssertTrue("\(error)".contains("holds 'a.png', not true/false or 1/0"), "\(error)")
        }
        XCTAssertThrowsError(try ColSplitter().split([URL(fileURLWithPath: "/a.png")])) { error in
            XCTAssertTrue("\(error)".contains("splits a DataFrame's rows"), "\(error)")
        }
        let allTrain = try DataFrame.parseCSV("f,is_valid\na,0\nb,0\n")
        XCTAssertThrowsError(try ColSplitter().split(allTrain.rowItems)) { error in
            XCTAssertTrue("\(error)".contains("puts all 2 rows in the training split"), "\(error)")
        }
    }
}

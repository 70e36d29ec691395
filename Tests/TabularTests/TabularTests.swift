import FastSwift
import Foundation
import TestSupport
import XCTest
@testable import DataBlocks
@testable import Layers
@testable import Tabular

/// fastai's tabular procs, model and learner, against fastai's own outputs
/// (`Tests/Fixtures/make_tabular_reference.py`) and on the bundled sample.
final class TabularTests: TemporaryFolderTestCase {

    func fixtureTable() throws -> DataFrame {
        try DataFrame.readCSV(TabularReference.folder.appendingPathComponent("procs_table.csv"))
    }

    func testProcsGiveFastaisVocabFillValuesAndNormalisedRows() throws {
        let reference = try TabularReference.load()
        let df = try fixtureTable()
        let validIdx = try XCTUnwrap(reference["valid_idx"] as? [Int])
        let dls = try TabularDataLoaders.fromDF(
            df, yNames: ["label"], catNames: ["city", "rooms", "garden"], contNames: ["area", "age", "price"],
            procs: [.normalize, .categorify, .fillMissing], validIdx: validIdx, batchSize: 4)
        let p = dls.processor
        XCTAssertEqual(p.catNames, reference["cat_names"] as? [String], "the _na columns join the categorical ones, in fastai's order")
        XCTAssertEqual(p.contNames, reference["cont_names"] as? [String])
        XCTAssertEqual(p.classes, reference["classes"] as? [String: [String]])
        for (key, name) in [("fill_values", p.fillValues), ("means", p.means), ("stds", p.stds)] {
            let expected = try XCTUnwrap(reference[key] as? [String: Double])
            XCTAssertEqual(Set(name.keys), Set(expected.keys), key)
            for (column, value) in expected { XCTAssertEqual(name[column]!, value, accuracy: 1e-9 * max(1, abs(value)), "\(key) \(column)") }
        }
        XCTAssertEqual(p.targetClasses, reference["target_classes"] as? [String])
        // The processed rows, in fastai's row order (training rows first as split).
        let trainRows = Array(0..<df.rowCount).filter { !validIdx.contains($0) }
        try compare(p, df.rows(trainRows), reference, cats: "train_cats", conts: "train_conts", ys: "train_y")
        try compare(p, df.rows(validIdx), reference, cats: "valid_cats", conts: "valid_conts", ys: "valid_y")
        dls.showBatch()
    }

    /// `rows` processed by `p` against fastai's processed categories, continuous values and targets.
    func compare(_ p: TabularProcessor, _ rows: DataFrame, _ reference: [String: Any], cats: String, conts: String, ys: String) throws {
        let (x, y) = try p.encode(rows)
        let values = x.scalars, width = p.width
        let expectedCats = try XCTUnwrap(reference[cats] as? [[Int]]), expectedConts = try XCTUnwrap(reference[conts] as? [[Double]])
        for (i, row) in expectedCats.enumerated() {
            let mine: [Int] = (0..<row.count).map { Int(values[i * width + $0]) }
            XCTAssertEqual(mine, row, "\(cats) row \(i)")
            for (k, value) in expectedConts[i].enumerated() {
                let got = Double(values[i * width + row.count + k])
                XCTAssertEqual(got, value, accuracy: 1e-5, "\(conts) row \(i) column \(k)")
            }
        }
        XCTAssertEqual(y?.scalars.map { Int($0) }, reference[ys] as? [Int], ys)
    }

    func testEmbeddingSizesFollowFastaisRule() throws {
        let reference = try XCTUnwrap(try TabularReference.load()["emb_sz_rule"] as? [String: Int])
        for (n, size) in reference { XCTAssertEqual(embeddingSizeRule(Int(n)!), size, "\(n) categories") }
    }

    func testTabularModelGivesPyTorchsOutputs() throws {
        let reference = try TabularReference.load()
        let sizes = try XCTUnwrap(reference["emb_szs"] as? [[Int]])
        let models = try XCTUnwrap(reference["models"] as? [String: [String: Any]])
        for (name, expected) in models {
            let yRange = (expected["y_range"] as? [Double]).map { Float($0[0])...Float($0[1]) }
            let outputs = try XCTUnwrap(expected["outputs"] as? Int)
            let model = TabularModel(
                embeddingSizes: sizes.map { ($0[0], $0[1]) }, continuous: 3, outputs: outputs, layers: [8, 6], yRange: yRange)
            let keys = try XCTUnwrap(expected["keys"] as? [String: [Int]])
            XCTAssertEqual(Set(model.stateDict().keys), Set(keys.keys), "fastai's state dict names")
            var state: [String: Tensor] = [:]
            for (key, shape) in keys { state[key] = DeterministicWeights.tensor(key, shape: shape) }
            try model.loadStateDict(state)
            model.eval()
            let cats = try XCTUnwrap(expected["x_cat"] as? [[Int]]), conts = try XCTUnwrap(expected["x_cont"] as? [[Double]])
            var inputs: [Float] = []
            for (catRow, contRow) in zip(cats, conts) { inputs += catRow.map(Float.init) + contRow.map(Float.init) }
            let x = Tensor(shape: [cats.count, 6], scalars: inputs)
            XCTAssertEqual(
                DeterministicWeights.tensor("x_cont", shape: [4, 3]).scalars, conts.flatMap { $0.map(Float.init) }, "the same inputs")
            let y = noGrad { model(x) }
            assertClose(y.reshape([-1]), Tensor((expected["y"] as! [Double]).map(Float.init)), rtol: 1e-5, atol: 1e-6)
            XCTAssertEqual(y.shape, [4, outputs], name)
        }
    }

    func testAnEmbeddingsGradientIsPyTorchs() throws {
        let reference = try XCTUnwrap(try TabularReference.load()["embedding_gradient"] as? [String: Any])
        let embedding = Embedding(6, 4)
        try embedding.loadStateDict(["weight": DeterministicWeights.tensor("embedding.weight", shape: [6, 4])])
        let indices = try XCTUnwrap(reference["indices"] as? [Int])
        (embedding(indices: indices) * DeterministicWeights.tensor("embedding.w", shape: [6, 4])).sum().backward()
        assertClose(embedding.weight.grad!.reshape([-1]), Tensor((reference["grad"] as! [Double]).map(Float.init)), rtol: 1e-6, atol: 1e-7)
        let check = checkGradients(of: { $0[0][[3, 1, 3]].square().sum() }, at: [Tensor.randn([5, 2])])
        XCTAssertTrue(check.passed, "the row gather an embedding is, against finite differences: \(check)")
    }

    func testTheBundledSampleTrainsAndTheExportPredictsTheSame() throws {
        seed(7)
        let dls = try TabularDataLoaders.fromCSV(
            BundledData.titanic, yNames: ["survived"], catNames: ["sex", "passengerClass"], contNames: ["age"],
            procs: [.categorify, .fillMissing, .normalize], seed: 42)
        XCTAssertEqual(dls.processor.catNames, ["sex", "passengerClass", "age_na"])
        let learn = tabularLearner(dls, layers: [200, 100], metrics: [accuracy])
        learn.progress.show = false
        try learn.fitOneCycle(epochs: 5, lrMax: 1e-2)
        let accuracyValue = learn.recorder.values.last![2]
        XCTAssertGreaterThan(accuracyValue, 0.74, "the sex-and-class model of the Titanic gets about 78%")
        // export and loadLearner: the same predictions for a row, a missing age filled as in training.
        learn.path = folder
        let file = try learn.export()
        let loaded = try loadLearner(file)
        let row = ["sex": "female", "passengerClass": "1st", "age": "NA"]
        let mine = try learn.predict(row: row), theirs = try loaded.predict(row: row)
        XCTAssertEqual(mine.label, theirs.label)
        XCTAssertEqual(mine.probabilities, theirs.probabilities)
        XCTAssertEqual(mine.label, "yes", "a first-class woman survived, most often")
        XCTAssertEqual(mine.row.first { $0.column == "age_na" }?.value, "True")
        // An unseen category is #na#, as fastai's Categorify makes it.
        let unseen = try learn.predict(row: ["sex": "female", "passengerClass": "4th", "age": "30"])
        XCTAssertEqual(unseen.row.first { $0.column == "passengerClass" }?.value, "#na#")
    }

    func testBadInputIsAnErrorNamingTheRowAndTheColumn() throws {
        let df = try fixtureTable()
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body() } catch { return "\(error)" }
            return "no error"
        }
        let base = { (yNames: [String], cat: [String], cont: [String], table: DataFrame) in
            try TabularDataLoaders.fromDF(table, yNames: yNames, catNames: cat, contNames: cont, procs: [.categorify, .fillMissing], seed: 1)
        }
        XCTAssertTrue(message { try base(["label"], ["nowhere"], [], df) }.contains("no column named 'nowhere'"))
        XCTAssertTrue(message { try base(["label"], [], ["city"], df) }.contains("column 'city': 'Lyon' is not a number"))
        XCTAssertTrue(message { try base(["price"], ["city"], [], df) }.contains("column 'price': the target is missing"))
        XCTAssertTrue(message { try base(["label"], ["city"], ["city"], df) }.contains("named in more than one"))
        XCTAssertTrue(message { try base(["label"], ["city"], [], df.rows([0])) }.contains("too few to split"))
        // A missing continuous value where the training rows had none: FillMissing has no value for it.
        let dls = try TabularDataLoaders.fromDF(
            df, yNames: ["label"], catNames: ["city"], contNames: ["rooms"], procs: [.categorify, .fillMissing], validIdx: [0, 1])
        let learn = tabularLearner(dls)
        XCTAssertTrue(message { try learn.predict(row: ["city": "Lyon", "rooms": ""]) }.contains("column 'rooms': a missing value"))
        XCTAssertTrue(message { try learn.predict(row: ["city": "Lyon"]) }.contains("no value for column 'rooms'"))
        XCTAssertTrue(message { try learn.predict(row: ["city": "Lyon", "rooms": "many"]) }.contains("'many' is not a number"))
    }
}

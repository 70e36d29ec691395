import FastSwift
import XCTest

/// The README's "Tables and recommendations" example, as written there: it must run.
final class ReadmeExampleTests: XCTestCase {
    func testTheTablesAndRecommendationsExampleRuns() throws {
        seed(42)
        let df = try DataFrame.readCSV(BundledData.titanic)  // survived, sex, age (263 missing), passengerClass
        let (cont, cat) = contCatSplit(df, maxCard: 20, depVar: "survived")
        let dls = try TabularDataLoaders.fromDF(
            df, yNames: ["survived"], catNames: cat, contNames: cont,
            procs: [.categorify, .fillMissing, .normalize])
        dls.showBatch()
        let learn = tabularLearner(dls, layers: [200, 100], metrics: [accuracy])
        try learn.fitOneCycle(epochs: 5, lrMax: 1e-2)
        let prediction = try learn.predict(row: ["sex": "female", "passengerClass": "1st", "age": "NA"])
        print(prediction.label, prediction.row)  // yes, and the row as the model saw it (age filled)
        XCTAssertEqual(cat, ["sex", "passengerClass"])
        XCTAssertEqual(cont, ["age"])
        XCTAssertEqual(prediction.label, "yes")

        let ratings = try DataFrame.readCSV(BundledData.ratings)  // user, movie, rating
        let collab = try CollabDataLoaders.fromDF(ratings, batchSize: 64)
        let recommender = collabLearner(collab, nFactors: 50, yRange: 0...5.5)
        try recommender.fitOneCycle(epochs: 5, lrMax: 5e-3, wd: 0.1)
        if let model = recommender.embeddingDotBias {
            print(try model.bias(["m47 (+1.05)", "m148 (-1.98)"]))  // the learned biases of two movies
            let biases = try model.bias(["m47 (+1.05)", "m148 (-1.98)"]).scalars
            XCTAssertGreaterThan(biases[0], biases[1], "a movie of true bias +1.05 learns a higher bias than one of -1.98")
        } else {
            XCTFail("collabLearner makes an EmbeddingDotBias")
        }
        XCTAssertLessThan(recommender.recorder.values.last![1], 0.6, "validation MSE of star ratings with noise 0.5")
    }
}

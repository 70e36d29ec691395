import FastSwift
import Foundation
import TestSupport
import XCTest
@testable import Collab
@testable import DataBlocks

/// Collaborative filtering on ratings made by a known low-rank model: the learners find it.
final class CollabTests: TemporaryFolderTestCase {

    /// `count` ratings of `users` users and `items` items from 3 latent factors and a bias each:
    /// `3 + u·v + b_u + b_i` plus noise of std 0.1; item `i` is named `item <i>`, and item 0's
    /// bias is the largest.
    func lowRankRatings(users: Int = 120, items: Int = 90, count: Int = 6000, seed: UInt64 = 3) throws -> DataFrame {
        let g = RandomGenerator(seed: seed)
        let u = Tensor.randn([users, 3], generator: g) * 0.6, v = Tensor.randn([items, 3], generator: g) * 0.6
        var itemBias = (Tensor.randn([items], generator: g) * 0.5).scalars
        itemBias[0] = 2
        let userBias = (Tensor.randn([users], generator: g) * 0.3).scalars
        let (us, vs) = (u.scalars, v.scalars)
        var userColumn: [Int?] = [], itemColumn: [String?] = [], ratings: [Double?] = []
        for _ in 0..<count {
            let (a, b) = (g.nextInt(below: users), g.nextInt(below: items))
            let dot = (0..<3).reduce(Float(0)) { $0 + us[a * 3 + $1] * vs[b * 3 + $1] }
            userColumn.append(a)
            itemColumn.append("item \(b)")
            ratings.append(Double(3 + dot + userBias[a] + itemBias[b] + g.nextNormal() * 0.1))
        }
        return try DataFrame([("user", .integers(userColumn)), ("item", .strings(itemColumn)), ("rating", .floats(ratings))])
    }

    func testDotProductAndNeuralModelsLearnALowRankTable() throws {
        seed(11)
        let ratings = try lowRankRatings()
        let dls = try CollabDataLoaders.fromDF(ratings, seed: 4)
        XCTAssertEqual(dls.users.first, "#na#")
        XCTAssertEqual(dls.users.count, 121, "120 users and #na#")
        XCTAssertEqual(dls.items.count, 91)
        let learn = collabLearner(dls, nFactors: 20, yRange: 0...7)
        learn.progress.show = false
        try learn.fitOneCycle(epochs: 8, lrMax: 5e-2, wd: 0.01)
        let dotLoss = learn.recorder.values.last![1]
        XCTAssertLessThan(dotLoss, 0.1, "the validation MSE approaches the noise, far below the ratings' variance")
        let model = try XCTUnwrap(learn.embeddingDotBias)
        let biases = try model.bias(dls.items.dropFirst().map { $0 })
        XCTAssertEqual(Int(biases.argmax().item()), dls.items.dropFirst().firstIndex(of: "item 0")! - 1, "item 0's bias is the largest")
        XCTAssertEqual(try model.weight(["item 3", "item 4"]).shape, [2, 20])
        XCTAssertThrowsError(try model.bias(["no such item"])) { XCTAssertTrue("\($0)".contains("'no such item' is not one of the items"), "\($0)") }

        seed(12)
        let neural = collabLearner(dls, useNN: true, layers: [50], yRange: 0...7)
        neural.progress.show = false
        try neural.fitOneCycle(epochs: 8, lrMax: 1e-2)
        XCTAssertLessThan(neural.recorder.values.last![1], 0.5, "EmbeddingNN learns it too")

        // export and loadLearner rebuild the model and predict the same ratings.
        learn.path = folder
        let loaded = try loadLearner(try learn.export())
        let (x, _) = dls.valid.oneBatch()
        XCTAssertEqual(
            noGrad { loaded.model(x) },
            noGrad {
                learn.model.eval(); return learn.model(x)
            })
    }

    func testMovieLensRatingsAndBadRows() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("u.data")
        try "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n".write(to: file, atomically: true, encoding: .utf8)
        let df = try readMovieLensRatings(file)
        XCTAssertEqual(df.columnNames, ["user", "movie", "rating", "timestamp"])
        XCTAssertEqual(df["movie"], .integers([242, 302, 377]))
        try "196\t242\tthree\t881250949\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readMovieLensRatings(file)) { XCTAssertTrue("\($0)".contains("line 1 is not four"), "\($0)") }
        let bad = try DataFrame([("user", .integers([1, 2, 3])), ("item", .integers([1, 2, 3])), ("rating", .strings(["4", "x", "5"]))])
        XCTAssertThrowsError(try CollabDataLoaders.fromDF(bad, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("column 'rating': 'x' is not a rating"), "\(error)")
        }
        XCTAssertThrowsError(try CollabDataLoaders.fromDF(bad, itemName: "movie")) { XCTAssertTrue("\($0)".contains("no column named 'movie'")) }
    }
}

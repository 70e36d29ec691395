import XCTest
@testable import DataBlocks
@testable import Tensors

final class DataLoaderTests: XCTestCase {
    func testBadArgumentsThrowInsteadOfTrapping() throws {
        XCTAssertThrowsError(try DataLoader(0..<10, batchSize: 0)) { error in
            XCTAssertEqual("\(error)", "DataLoader: batchSize must be positive, got 0")
        }
        XCTAssertThrowsError(try DataLoader(0..<10, batchSize: -4))
        XCTAssertThrowsError(try TensorDataset(Tensor.zeros([5, 2]), Tensor.zeros([4]))) { error in
            XCTAssertEqual("\(error)", "TensorDataset: inputs [5, 2] and targets [4] must hold the same number of items")
        }
    }

    func testShuffledRangeAsInTheSeeds() throws {
        seed(42)
        let dl = try DataLoader(0..<15, batchSize: 5, shuffle: true)
        let pass = Array(dl)
        XCTAssertEqual(pass.count, 3)
        XCTAssertEqual(pass.map(\.count), [5, 5, 5])
        XCTAssertEqual(pass.flatMap { $0 }.sorted(), Array(0..<15))
        XCTAssertNotEqual(pass.flatMap { $0 }, Array(0..<15), "shuffled")
        XCTAssertNotEqual(Array(dl), pass, "each pass draws a new order")
        seed(42)
        XCTAssertEqual(Array(try DataLoader(0..<15, batchSize: 5, shuffle: true)), pass, "the global seed fixes the loader's orders")
        XCTAssertEqual(Array(try DataLoader(0..<15, batchSize: 5)), [Array(0..<5), Array(5..<10), Array(10..<15)])
    }

    func testLettersWithTheirPositionsAndDropLast() throws {
        let letters = Array("abcdefghijklmnopqrstuvwxyz".enumerated())
        let dl = try DataLoader(letters, batchSize: 6, shuffle: true)
        XCTAssertEqual(Array(dl).map(\.count), [6, 6, 6, 6, 2])
        XCTAssertEqual(Set(Array(dl).flatMap { $0.map(\.element) }), Set("abcdefghijklmnopqrstuvwxyz"))
        let dropped = try DataLoader(letters, batchSize: 6, shuffle: true, dropLast: true)
        XCTAssertEqual(dropped.count, 4)
        XCTAssertEqual(Array(dropped).map(\.count), [6, 6, 6, 6])
        // Batches print readably.
        let first = try DataLoader(letters, batchSize: 2).oneBatch()
        XCTAssertEqual("\(first.map { "\($0.offset)\($0.element)" })", "[\"0a\", \"1b\"]")
    }

    func testTensorPairsAreStacked() throws {
        let x = Tensor.randn([10, 3], generator: RandomGenerator(seed: 1)), y = Tensor.arange(10)
        let pairs = (0..<10).map { (x[$0], y[$0]) }
        let batches = Array(try DataLoader(pairs, batchSize: 4))
        XCTAssertEqual(batches.map(\.0.shape), [[4, 3], [4, 3], [2, 3]])
        XCTAssertEqual(batches[1].1, Tensor([4, 5, 6, 7]))
        XCTAssertEqual(batches[2].0, x[8..<10])
    }

    func testTensorDatasetGathersRows() throws {
        let x = Tensor.randn([100, 2, 2], generator: RandomGenerator(seed: 2)), y = Tensor.arange(100)
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 32, shuffle: true)
        var seen: [Float] = []
        for (xb, yb) in dl {
            XCTAssertEqual(xb.shape.dropFirst(), [2, 2])
            for (k, label) in yb.scalars.enumerated() { XCTAssertEqual(xb[k], x[Int(label)]) }
            seen += yb.scalars
        }
        XCTAssertEqual(seen.sorted(), (0..<100).map(Float.init))
        XCTAssertEqual(try TensorDataset(x, y)[7].1.item(), 7)
    }

    func testPrefetchGivesTheSameBatches() throws {
        let x = Tensor.randn([64, 5], generator: RandomGenerator(seed: 3)), y = Tensor.arange(64)
        let with = try DataLoader(TensorDataset(x, y), batchSize: 10, shuffle: true, prefetch: true, generator: RandomGenerator(seed: 9))
        let without = try DataLoader(TensorDataset(x, y), batchSize: 10, shuffle: true, prefetch: false, generator: RandomGenerator(seed: 9))
        for _ in 0..<3 {
            let a = Array(with), b = Array(without)
            XCTAssertEqual(a.map(\.1), b.map(\.1))
            XCTAssertEqual(a.map(\.0), b.map(\.0))
        }
    }

    func testDataLoadersPairTrainAndValid() throws {
        let dls = DataLoaders(try DataLoader(0..<10, batchSize: 4, shuffle: true), try DataLoader(10..<14, batchSize: 4), vocab: ["3", "7"])
        let first = dls.oneBatch()
        XCTAssertEqual(first.count, 4)
        XCTAssertTrue(Set(first).isSubset(of: Set(0..<10)))
        XCTAssertEqual(dls.valid.oneBatch(), [10, 11, 12, 13], "an unshuffled loader starts at the beginning")
        XCTAssertEqual(Array(dls.valid), [[10, 11, 12, 13]])
        XCTAssertEqual(dls.vocab, ["3", "7"])
    }
}

import Foundation
import XCTest
@testable import DataBlocks
@testable import Tensors

final class DataBlockTests: XCTestCase {
    func testImageDataLoadersFromFolderOnTheBundledSample() throws {
        let dls = try ImageDataLoaders.fromFolder(BundledData.mnist, train: "training", valid: "testing", batchSize: 64)
        XCTAssertEqual(dls.vocab, (0...9).map(String.init))
        XCTAssertEqual(dls.train.count, 3000 / 64, "the training loader drops its last partial batch")
        XCTAssertEqual(dls.valid.count, (1000 + 63) / 64, "the validation loader keeps it")
        let (x, y) = dls.oneBatch()
        XCTAssertEqual(x.shape, [64, 1, 28, 28])
        XCTAssertEqual(y.shape, [64])
        XCTAssertTrue(dls.train.shuffle && !dls.valid.shuffle)
        XCTAssertEqual(Array(dls.valid).reduce(0) { $0 + $1.1.count }, 1000)
    }

    func testDataBlockWithRandomSplitterAndTransforms() throws {
        let block = DataBlock(blocks: (ImageBlock(channels: 3), CategoryBlock()), getItems: getImageFiles,
                              splitter: RandomSplitter(validPct: 0.25, seed: 1), getY: parentLabel,
                              itemTransforms: [{ $0 * 2 }], batchTransforms: [{ $0 - 1 }])
        let dls = try block.dataLoaders(BundledData.mnist.appendingPathComponent("testing"), batchSize: 50)
        let (x, _) = dls.oneBatch()
        XCTAssertEqual(x.shape, [50, 3, 28, 28])
        XCTAssertEqual(x.min().item(), -1, "0 → ·2 → -1")
        XCTAssertEqual(x.max().item(), 1, accuracy: 1e-6)
        XCTAssertEqual(dls.valid.itemCount, 250)
        // The same seed holds out the same items.
        let again = try block.dataLoaders(BundledData.mnist.appendingPathComponent("testing"), batchSize: 50)
        XCTAssertEqual(Array(again.valid).map(\.1), Array(dls.valid).map(\.1))
    }

    func testSplittersAndCategories() throws {
        let items = ["a/training/3/1.png", "a/testing/7/2.png", "a/training/7/3.png"].map { URL(fileURLWithPath: "/" + $0) }
        let split = try GrandparentSplitter(train: "training", valid: "testing").split(items)
        XCTAssertEqual(split.train, [0, 2])
        XCTAssertEqual(split.valid, [1])
        XCTAssertThrowsError(try GrandparentSplitter(train: "train", valid: "testing").split(items)) { error in
            XCTAssertTrue("\(error)".contains("no items in a 'train' folder"), "\(error)")
        }
        XCTAssertEqual(items.map(parentLabel), ["3", "7", "7"])
        let vocab = Categories(["3", "7"])
        XCTAssertEqual(try vocab.encode("7", source: "x"), 1)
        XCTAssertEqual(vocab.decode(0), "3")
        XCTAssertThrowsError(try vocab.encode("9", source: "a/testing/9/1.png")) { error in
            XCTAssertEqual("\(error)", "a/testing/9/1.png: label '9' is not in the vocab [\"3\", \"7\"]")
        }
        let random = try RandomSplitter(validPct: 0.2, seed: 3).split(Array(repeating: items[0], count: 10))
        XCTAssertEqual(random.valid.count, 2)
        XCTAssertEqual(Set(random.train + random.valid), Set(0..<10))
    }

    func testSummaryWalksEveryStepAndSaysWhereItFails() throws {
        let ok = DataBlock(blocks: (ImageBlock(), CategoryBlock()), splitter: GrandparentSplitter(train: "training", valid: "testing"))
            .summary(BundledData.mnist)
        XCTAssertTrue(ok.contains("found 4000 items"), ok)
        XCTAssertTrue(ok.contains("3000 training and 1000 validation items"), ok)
        XCTAssertTrue(ok.contains("tensor of shape [1, 28, 28]"), ok)
        XCTAssertTrue(ok.contains("inputs [4, 1, 28, 28], targets [4]"), ok)
        let bad = DataBlock(blocks: (ImageBlock(), CategoryBlock(vocab: ["x"])), splitter: GrandparentSplitter(train: "training", valid: "testing"))
            .summary(BundledData.mnist)
        XCTAssertTrue(bad.contains("CategoryBlock: encoding '0': FAILED:"), bad)
        XCTAssertFalse(bad.contains("Collating"), "later steps are not run after a failure")
    }

    func testEmptyFolderIsAClearError() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        XCTAssertThrowsError(try ImageDataLoaders.fromFolder(root)) { error in
            XCTAssertTrue("\(error)".contains("no items found"), "\(error)")
        }
    }
}

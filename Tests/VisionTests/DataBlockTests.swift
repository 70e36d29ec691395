import Foundation
import XCTest
@testable import Vision
@testable import Codecs
@testable import DataBlocks
@testable import Tensors

final class DataBlockTests: XCTestCase {
    func testBadBatchSizeAndValidPctAreThrownErrors() {
        let path = BundledData.mnist
        XCTAssertThrowsError(try ImageDataLoaders.fromFolder(path, train: "training", valid: "testing", batchSize: 0)) { error in
            XCTAssertEqual((error as? DataError)?.reason, "batchSize must be positive, got 0")
        }
        XCTAssertThrowsError(try ImageDataLoaders.fromFolder(path, validPct: 1.0)) { error in
            XCTAssertEqual((error as? DataError)?.reason, "RandomSplitter: validPct must be between 0 and 1 (exclusive), got 1.0")
        }
        let three = (0..<3).map { URL(fileURLWithPath: "/d/\($0).png") }
        XCTAssertThrowsError(try RandomSplitter(validPct: 0.1, seed: 1).split(three)) { error in
            XCTAssertEqual((error as? DataError)?.reason, "RandomSplitter: validPct 0.1 of 3 items leaves the validation split empty")
        }
        XCTAssertThrowsError(try RandomSplitter(validPct: 0.9, seed: 1).split(three)) { error in
            XCTAssertEqual((error as? DataError)?.reason, "RandomSplitter: validPct 0.9 of 3 items leaves the training split empty")
        }
    }

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
        let block = DataBlock(
            blocks: (ImageBlock(channels: 3), CategoryBlock()), getItems: getImageFiles,
            splitter: RandomSplitter(validPct: 0.25, seed: 1), getY: parentLabel,
            itemTransforms: [Resize(14)], batchTransforms: [Normalize(mean: [0.5], std: [0.5])])
        let dls = try block.dataLoaders(BundledData.mnist.appendingPathComponent("testing"), batchSize: 50)
        let (x, _) = dls.oneBatch()
        XCTAssertEqual(x.shape, [50, 3, 14, 14])
        XCTAssertEqual(x.min().item(), -1, "black (0) normalised by mean 0.5, std 0.5")
        XCTAssertGreaterThan(x.max().item(), 0.5)
        XCTAssertLessThanOrEqual(x.max().item(), 1)
        XCTAssertEqual(dls.decode(x).min().item(), 0, accuracy: 1e-6, "decode undoes Normalize")
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

final class ShowBatchAndCSVTests: XCTestCase {
    func testShowBatchWritesALabelledGrid() throws {
        let dls = try ImageDataLoaders.fromFolder(BundledData.mnist, train: "training", valid: "testing", batchSize: 8)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-batch-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: file) }
        let grid = try dls.showBatch(to: file, count: 8, columns: 4, scale: 2)
        let decoded = try PNG.decode([UInt8](Data(contentsOf: file)), source: file.path)
        XCTAssertEqual(decoded, grid)
        XCTAssertEqual([grid.width, grid.height], [4 * (56 + 4) + 4, 2 * (56 + 18) + 4])
        // Some label pixels are black, in the strip under the first image.
        let strip = (58..<74).flatMap { y in (4..<60).map { x in grid.pixels[(y * grid.width + x) * 3] } }
        XCTAssertTrue(strip.contains(0), "the first label is drawn under its image")
    }

    func testPixelCSV() throws {
        let row = (0..<784).map { String($0 % 256) }.joined(separator: ",")
        let csv = Array((row + ",7\n" + row + ",3\r\n").utf8)
        let (images, labels) = try PixelCSV.read(csv, source: "d.csv")
        XCTAssertEqual(images.shape, [2, 1, 28, 28])
        XCTAssertEqual(labels, Tensor([7, 3]))
        XCTAssertEqual(images[1, 0, 9, 3].item(), Float((9 * 28 + 3) % 256) / 255, accuracy: 1e-6)
        XCTAssertThrowsError(try PixelCSV.read(Array("1,2,3\n".utf8), source: "bad.csv")) { error in
            XCTAssertEqual("\(error)", "bad.csv: line 1 has 3 fields, expected 784 pixels and a label")
        }
        XCTAssertThrowsError(try PixelCSV.read(Array((row + ",x\n").utf8), source: "bad.csv")) { error in
            XCTAssertTrue("\(error)".contains("line 1: 'x' is not a whole number"), "\(error)")
        }
    }
}

final class SkippedFilesTests: XCTestCase {
    func testUndecodableImagesAreLeftOutButCounted() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-skip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("train/cat"), withIntermediateDirectories: true)
        try Data(PNG.encode(Image(width: 1, height: 1, channels: 1, pixels: [7]))).write(to: root.appendingPathComponent("train/cat/a.png"))
        try Data([0xFF, 0xD8]).write(to: root.appendingPathComponent("train/cat/b.JPG"))
        try Data([0x42, 0x4D]).write(to: root.appendingPathComponent("train/cat/c.bmp"))
        try Data("notes".utf8).write(to: root.appendingPathComponent("train/cat/readme.txt"))
        XCTAssertEqual(try getImageFiles(root).map(\.lastPathComponent), ["a.png", "b.JPG"])
        let (files, skipped) = try listImageFiles(root)
        XCTAssertEqual(files.count, 2)
        XCTAssertEqual(skipped, ["bmp": 1], "the BMP is counted (and reported); the text file is not an image")
    }
}

final class SeedTwinsTests: XCTestCase {
    func testLsAndImageOpenAsInTheChapter() throws {
        // path.ls(); (path/'training'/'3').ls().sorted(); Image.open(threes[1]); tensor(im3)
        let folders = try BundledData.mnist.ls().map(\.lastPathComponent)
        XCTAssertEqual(folders, ["testing", "training"])
        let threes = try BundledData.mnist.appendingPathComponent("training/3").ls()
        XCTAssertEqual(threes.count, 300)
        let im3 = try Image.open(threes[1])
        XCTAssertEqual(im3.tensor().shape, [1, 28, 28])
        XCTAssertEqual((im3.tensor() .> 0.5).float().shape, [1, 28, 28])
        XCTAssertThrowsError(try Image.open(BundledData.mnist.appendingPathComponent("nope.png"))) { error in
            XCTAssertTrue("\(error)".contains("nope.png: cannot read the file"), "\(error)")
        }
    }

    func testFilesSortInNaturalOrderAsFoundationDoes() {
        let paths = [
            "/d/training/7/10.png", "/d/training/7/2.png", "/d/training/10/1.png", "/d/training/9/1.png",
            "/d/Testing/3/5.png", "/d/testing/3/40.png", "/d/training/7/002.png", "/d/x-1/a.png", "/d/x.1/a.png",
            "/d/img10b.png", "/d/img10a.png", "/d/img9z.png", "/d/Zebra.png", "/d/apple.png",
        ]
        let ours = paths.sorted { naturalSortKey($0).lexicographicallyPrecedes(naturalSortKey($1)) }
        let foundation = paths.sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        // (Punctuation sorts by code point, where ICU's collation has its own order, e.g. `_` before `-`.)
        XCTAssertEqual(ours, foundation)
    }
}

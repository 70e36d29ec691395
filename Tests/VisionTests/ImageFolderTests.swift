import Foundation
import TestSupport
import XCTest
@testable import Vision
@testable import Codecs
@testable import DataBlocks
@testable import Tensors

final class ImageFolderTests: XCTestCase {
    func testBundledSampleLoads() throws {
        let valid = try ImageFolder.load(BundledData.mnist, split: "testing")
        XCTAssertEqual(valid.images.shape, [1000, 1, 28, 28])
        XCTAssertEqual(valid.classes, (0...9).map(String.init))
        XCTAssertEqual(valid.labels.shape, [1000])
        for digit in 0..<10 { XCTAssertEqual((valid.labels .== Float(digit)).sum().item(), 100) }
        XCTAssertEqual(valid.files[0].pathComponents.suffix(3).first, "testing")
    }

    func testMixedGrayAndColourLoadAsRGBAndABadChannelCountThrows() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-mixed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for label in ["cat", "dog"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("training/\(label)"), withIntermediateDirectories: true)
        }
        let gray = Image(width: 2, height: 1, channels: 1, pixels: [0, 255])
        let colour = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 0, 255])
        try Data(PNG.encode(gray)).write(to: root.appendingPathComponent("training/cat/a.png"))
        try Data(PNG.encode(colour)).write(to: root.appendingPathComponent("training/dog/b.png"))
        let split = try ImageFolder.load(root, split: "training")
        XCTAssertEqual(split.images.shape, [2, 3, 1, 2], "the gray image is repeated into RGB")
        XCTAssertEqual(split.images[0].scalars, [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(split.images[1].scalars, [1, 0, 0, 0, 0, 1])
        XCTAssertEqual(try ImageFolder.load(root, split: "training", channels: 1).images.shape, [2, 1, 1, 2])
        XCTAssertThrowsError(try ImageFolder.load(root, split: "training", channels: 2)) { error in
            XCTAssertEqual("\(error)", "\(root.appendingPathComponent("training").path): channels must be 1 (gray) or 3 (RGB), got 2")
        }
        let block = DataBlock(
            blocks: (ImageBlock(channels: 2), CategoryBlock()), getItems: getImageFiles,
            splitter: RandomSplitter(validPct: 0.5, seed: 1), getY: parentLabel)
        XCTAssertThrowsError(try block.dataLoaders(root, batchSize: 1)) { error in
            XCTAssertTrue("\(error)".hasSuffix("channels must be 1 (gray) or 3 (RGB), got 2"), "\(error)")
        }
    }

    func testErrorsSayWhatAndWhere() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-folder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        XCTAssertThrowsError(try ImageFolder.load(root, split: "training")) { error in
            XCTAssertTrue("\(error)".contains("no such folder"), "\(error)")
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("training/cat"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try ImageFolder.load(root, split: "training")) { error in
            XCTAssertTrue("\(error)".contains("no PNG or JPEG images found"), "\(error)")
        }
        let small = Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3])
        let big = Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5])
        try Data(PNG.encode(small)).write(to: root.appendingPathComponent("training/cat/a.png"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("training/dog"), withIntermediateDirectories: true)
        try Data(PNG.encode(big)).write(to: root.appendingPathComponent("training/dog/b.png"))
        XCTAssertThrowsError(try ImageFolder.load(root, split: "training")) { error in
            XCTAssertTrue("\(error)".contains("b.png: image is 3x2 but a.png is 2x2"), "\(error)")
        }
        XCTAssertThrowsError(try ImageFolder.load(root, split: "training", classes: ["cat"])) { error in
            XCTAssertTrue("\(error)".contains("label 'dog' is not in the vocab"), "\(error)")
        }
        try Data([1, 2, 3]).write(to: root.appendingPathComponent("training/dog/b.png"))
        XCTAssertThrowsError(try ImageFolder.load(root, split: "training")) { error in
            XCTAssertTrue("\(error)".hasSuffix("dog/b.png: not a PNG or JPEG image (unrecognised signature)"), "\(error)")
        }
    }
}

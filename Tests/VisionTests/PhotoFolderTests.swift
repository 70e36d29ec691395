import Foundation
import XCTest
@testable import Vision
@testable import Codecs
@testable import DataBlocks
import Tensors

/// Photo folders through fastai's factory methods: mixed sizes and formats, labels from names,
/// CSV files, and the errors users meet.
final class PhotoFolderTests: XCTestCase {
    let photos = BundledData.photos

    func label(_ url: URL) -> String { String(url.lastPathComponent.prefix { $0 != "_" }) }

    func testTheBundledSampleIsAMixedPhotoFolder() throws {
        let files = try getImageFiles(photos)
        XCTAssertTrue(files.count == 96)
        let extensions = Set(files.map { $0.pathExtension })
        XCTAssertTrue(extensions == ["jpg", "jpeg", "png"])
        let sizes = Set(
            try files.map { url -> [Int] in
                let h = try Image.header(readFileBytes(url), source: url.path)
                return [h.width, h.height]
            })
        XCTAssertTrue(sizes.count > 20, "many different sizes")
    }

    func testFromNameFuncLoadsMixedPhotosResizedToOneSize() throws {
        let dls = try ImageDataLoaders.fromNameFunc(
            photos, files: try getImageFiles(photos), labelFunc: label, validPct: 0.25, seed: 3,
            batchSize: 8, itemTransforms: [Resize(32)])
        XCTAssertTrue(dls.vocab == ["astronaut", "cat", "coffee", "rocket"])
        XCTAssertTrue(dls.train.itemCount == 72 && dls.valid.itemCount == 24)
        let (x, y) = dls.oneBatch()
        XCTAssertTrue(x.shape == [8, 3, 32, 32], "gray JPEGs are loaded as RGB with the colour ones")
        XCTAssertTrue(y.shape == [8])
        XCTAssertTrue(x.min().item() >= 0 && x.max().item() <= 1)
    }

    func testPhotosAboveTheCacheLimitAreReadFromTheirFilesWithTheSameBatches() throws {
        func batches() throws -> [[Float]] {
            seed(5)  // the loaders' generators come from the global one
            let dls = try ImageDataLoaders.fromNameFunc(
                photos, files: try getImageFiles(photos), labelFunc: label, validPct: 0.25, seed: 3,
                batchSize: 8, itemTransforms: [Resize(32)], batchTransforms: augTransforms())
            return Array(dls.train.prefix(3)).map(\.0.scalars) + Array(dls.valid.prefix(2)).map(\.0.scalars)
        }
        let kept = try batches()
        let saved = DataLimits.imageCacheBytes
        DataLimits.imageCacheBytes = 1 << 20  // far below the sample's ~40 MB decoded
        defer { DataLimits.imageCacheBytes = saved }
        XCTAssertTrue(try batches() == kept, "decoding from the files gave other batches than the kept images")
    }

    func testAHeaderBehindALargeEXIFBlockIsFoundInTheWholeFile() throws {
        // A JPEG whose APP1 segment (EXIF) is 65,533 bytes puts the frame header past the
        // first 64 KiB `header(ofFile:)` reads first.
        let jpeg = try readFileBytes(photos.appendingPathComponent("cat_008.jpg"))
        let app1: [UInt8] = [0xFF, 0xE1, 0xFF, 0xFF] + Array("Exif\0\0".utf8) + [UInt8](repeating: 0, count: 65_527)
        let padded = Array(jpeg[0..<2]) + app1 + Array(jpeg[2...])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-exif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("padded.jpg")
        try Data(padded).write(to: file)
        let expected = try Image.header(jpeg, source: "cat_008.jpg")
        let found = try Image.header(ofFile: file)
        XCTAssertTrue(found == expected, "\(found) != \(expected)")
        XCTAssertThrowsError(try Image.header(ofFile: folder.appendingPathComponent("missing.jpg"))) { error in
            XCTAssertTrue("\(error)".contains("missing.jpg: cannot read the file"), "\(error)")
        }
    }

    func testFromNameReAndTheRegexLabeller() throws {
        let files = try getImageFiles(photos)
        let dls = try ImageDataLoaders.fromNameRe(
            photos, files: files, pattern: #"^([a-z]+)_\d+\.(jpg|jpeg|png)$"#, seed: 3,
            batchSize: 4, itemTransforms: [Resize(16)])
        XCTAssertTrue(dls.vocab == ["astronaut", "cat", "coffee", "rocket"])
        let labeller = try RegexLabeller(#"^(\w+)_\d+"#)
        XCTAssertTrue(try labeller(URL(fileURLWithPath: "/pets/great_pyrenees_173.jpg")) == "great_pyrenees")
        do {
            _ = try labeller(URL(fileURLWithPath: "/pets/README.jpg"))
            XCTFail("an unmatched name was labelled")
        } catch let error as DataError {
            XCTAssertTrue(error.description == "/pets/README.jpg: RegexLabeller: '^(\\w+)_\\d+' does not match 'README.jpg'")
        }
        XCTAssertThrowsError(try RegexLabeller("no group")) { XCTAssertTrue($0 is DataError, "\($0)") }
    }

    func testFromCSVWithAValidationColumn() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("images"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var csv = "name,label,is_valid\n"
        for (i, file) in try getImageFiles(photos).enumerated() where i % 3 == 0 {
            try FileManager.default.copyItem(at: file, to: root.appendingPathComponent("images/\(file.lastPathComponent)"))
            csv += "\"\(file.deletingPathExtension().lastPathComponent)\",\(label(file)),\(i % 4 == 0)\n"
        }
        // The CSV names files without their extension (as Kaggle's often do); one suffix serves all.
        for file in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("images").path) {
            let stem = (file as NSString).deletingPathExtension
            try FileManager.default.moveItem(at: root.appendingPathComponent("images/\(file)"), to: root.appendingPathComponent("images/\(stem).img"))
        }
        try Data(csv.utf8).write(to: root.appendingPathComponent("labels.csv"))
        let dls = try ImageDataLoaders.fromCSV(root, folder: "images", suffix: ".img", validCol: 2, batchSize: 4, itemTransforms: [Resize(16)])
        XCTAssertTrue(dls.train.itemCount + dls.valid.itemCount == 32)
        XCTAssertTrue(dls.valid.itemCount == 8, "every fourth of 0, 3, 6, ... is marked valid")
        XCTAssertTrue(dls.oneBatch().0.shape == [4, 3, 16, 16])
        // A short row names its line.
        try Data("name,label\nastronaut_001\n".utf8).write(to: root.appendingPathComponent("short.csv"))
        do {
            _ = try ImageDataLoaders.fromCSV(root, csvFile: "short.csv", folder: "images", suffix: ".img")
            XCTFail("a short row loaded")
        } catch let error as DataError {
            XCTAssertTrue(error.reason == "line 2 has 1 column(s); column 1 was asked for")
        }
        XCTAssertTrue(try CSVTable.parse("a,\"b, \"\"c\"\"\"\r\n\nd,e\n", source: "t") == [["a", "b, \"c\""], ["d", "e"]])
    }

    func testMixedSizesWithoutAResizeAreAnErrorBeforeTraining() throws {
        do {
            _ = try ImageDataLoaders.fromNameFunc(photos, files: try getImageFiles(photos), labelFunc: label, seed: 1)
            XCTFail("photos of different sizes were batched")
        } catch let error as DataError {
            XCTAssertTrue(error.reason.hasPrefix("images differ in size: astronaut_001.png is "), "\(error)")
            XCTAssertTrue(error.reason.hasSuffix("add itemTransforms: [Resize(224)] (or another size) to resize them to one size"), "\(error)")
        }
        // Normalising gray images with RGB statistics is caught when the loaders are made.
        let digits = BundledData.mnist.appendingPathComponent("testing")
        do {
            _ = try ImageDataLoaders.fromFolder(digits, validPct: 0.2, seed: 1, batchTransforms: [Normalize.fromStats(imagenetStats)])
            XCTFail("RGB statistics normalised gray images")
        } catch let error as DataError {
            XCTAssertTrue(error.reason == "3 means and 3 standard deviations for images of 1 channel(s); load the images as RGB with ImageBlock(channels: 3)")
        }
    }

    func testShowBatchDrawsAugmentedDenormalisedImages() throws {
        let dls = try ImageDataLoaders.fromNameFunc(
            photos, files: try getImageFiles(photos), labelFunc: label, seed: 2, batchSize: 8,
            itemTransforms: [Resize(24)],
            batchTransforms: augTransforms() + [Normalize.fromStats(imagenetStats)])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-show-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: file) }
        let grid = try dls.showBatch(to: file, count: 8, columns: 4, scale: 1)
        let reread = try Image.open(file)
        XCTAssertTrue(reread == grid)
        // De-normalised photos: mostly mid-tones, not the clipped extremes normalised values would give.
        let mid = grid.pixels.filter { $0 > 20 && $0 < 235 }.count
        XCTAssertTrue(Double(mid) / Double(grid.pixels.count) > 0.3)
    }
}

import Foundation
import XCTest
@testable import Vision
@testable import Codecs
@testable import DataBlocks
import Tensors
import TestSupport

/// Item and batch transforms against hand-computed results and PIL.
final class TransformTests: XCTestCase {
    /// A `width × height` gray image whose pixel (x, y) is `10 y + x`.
    func ramp(_ width: Int, _ height: Int) -> Image {
        Image(width: width, height: height, channels: 1, pixels: (0..<(width * height)).map { UInt8(10 * ($0 / width) + $0 % width) })
    }

    func testResizeMatchesPIL() throws {
        for size in [(16, 16), (9, 20), (64, 48), (37, 10)] {
            let source = try Image.open(RepositoryFiles.imageFixtures.appendingPathComponent("resize_source.png"))
            let expected = try Image.open(RepositoryFiles.imageFixtures.appendingPathComponent("resize_\(size.0)x\(size.1).png"))
            let resized = source.resized(width: size.0, height: size.1)
            XCTAssertTrue(resized.width == expected.width && resized.height == expected.height, "\(size)")
            let worst = zip(resized.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertTrue(worst <= 1, "\(size): largest difference from PIL \(worst)")
        }
    }

    func testResizeCropTakesTheCentreInValidationAndAWindowInTraining() {
        let image = ramp(6, 2)
        // Crop: the largest 2x2 window; in validation the centre one (columns 2 and 3).
        let centre = Resize(2).apply(image, random: nil)
        XCTAssertTrue(centre.pixels == [2, 3, 12, 13])
        // In training a random window, always one of the five 2x2 windows, not always the centre.
        let windows = Set((0..<40).map { Resize(2).apply(image, random: RandomGenerator(seed: UInt64($0))).pixels })
        let all: Set<[UInt8]> = Set((0...4).map { (x: Int) -> [UInt8] in [x, x + 1, x + 10, x + 11].map(UInt8.init) })
        XCTAssertTrue(windows.isSubset(of: all))
        XCTAssertTrue(windows.count > 2)
    }

    func testResizePadAndSquish() {
        let image = ramp(4, 2)
        // Pad: the whole image in a 4x4 window, a row of padding above and below.
        let zeros = Resize(4, method: .pad, padMode: .zeros).apply(image, random: nil)
        XCTAssertTrue(zeros.pixels == [0, 0, 0, 0, 0, 1, 2, 3, 10, 11, 12, 13, 0, 0, 0, 0])
        let reflected = Resize(4, method: .pad).apply(image, random: nil)
        XCTAssertTrue(reflected.pixels == [10, 11, 12, 13, 0, 1, 2, 3, 10, 11, 12, 13, 0, 1, 2, 3])
        let border = Resize(4, method: .pad, padMode: .border).apply(image, random: nil)
        XCTAssertTrue(border.pixels == [0, 1, 2, 3, 0, 1, 2, 3, 10, 11, 12, 13, 10, 11, 12, 13])
        // Squish: every row and column kept, stretched; a 2x upscale of a constant stays constant.
        let squished = Resize(height: 4, width: 8, method: .squish).apply(
            Image(width: 4, height: 2, channels: 1, pixels: [7, 7, 7, 7, 7, 7, 7, 7]), random: nil)
        XCTAssertTrue(squished.width == 8 && squished.height == 4 && squished.pixels.allSatisfy { $0 == 7 })
    }

    func testRandomResizedCropInValidationSquishesLargerThenCropsTheCentre() {
        // 8 + ceil(8 * 0.14 / 8) * 8 = 16: the image is squished to 16x16, then its centre 8x8 kept.
        let image = ramp(32, 16)
        let crop = RandomResizedCrop(8).apply(image, random: nil)
        let expected = image.resized(width: 16, height: 16).cropPad(left: 4, top: 4, width: 8, height: 8)
        XCTAssertTrue(crop == expected)
        let training = RandomResizedCrop(8, minScale: 0.35).apply(image, random: RandomGenerator(seed: 3))
        XCTAssertTrue(training.width == 8 && training.height == 8)
    }

    /// A `[1, 1, 3, 3]` batch holding 0...8 row by row.
    let grid = Tensor((0..<9).map(Float.init)).reshape([1, 1, 3, 3])

    func testAffineMapsSampleWhereTheyPoint() {
        typealias Map = AffineAugment.CoordinateMap
        // A horizontal flip reverses each row.
        let flipped = AffineAugment.resample(grid, maps: [Map(affine: [-1, 0, 0, 0, 1, 0])], padMode: .reflection)
        XCTAssertTrue(flipped.scalars == [2, 1, 0, 5, 4, 3, 8, 7, 6])
        // (u, v) = (-y, x): output (x, y) reads input column 2 - y of row x, a quarter turn.
        let turned = AffineAugment.resample(grid, maps: [Map(affine: [0, -1, 0, 1, 0, 0])], padMode: .reflection)
        XCTAssertTrue(turned.scalars == [2, 5, 8, 1, 4, 7, 0, 3, 6])
        // Zoomed in 2x about the centre: output corners fall between four input pixels.
        let zoomed = AffineAugment.resample(grid, maps: [Map(affine: [0.5, 0, 0, 0, 0.5, 0])], padMode: .reflection)
        XCTAssertTrue(zoomed.scalars == [2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6])
        // Shifted one pixel right: the last column reads past the edge, reflected back to column 1.
        let shifted = AffineAugment.resample(grid, maps: [Map(affine: [1, 0, 1, 0, 1, 0])], padMode: .reflection)
        XCTAssertTrue(shifted.scalars == [1, 2, 1, 4, 5, 4, 7, 8, 7])
        let zeros = AffineAugment.resample(grid, maps: [Map(affine: [1, 0, 1, 0, 1, 0])], padMode: .zeros)
        XCTAssertTrue(zeros.scalars == [1, 2, 0, 4, 5, 0, 7, 8, 0])
        // The identity warp leaves the image alone.
        let warp = homography(mapping: [(-1, -1), (-1, 1), (1, -1), (1, 1)], onto: [(-1, -1), (-1, 1), (1, -1), (1, 1)])
        XCTAssertTrue(AffineAugment.resample(grid, maps: [Map(warp: warp)], padMode: .reflection).scalars == grid.scalars)
    }

    func testAugmentationsLeaveValidationBatchesAloneAndNormalizeUndoes() {
        let batch = Tensor.rand([2, 3, 5, 5])
        for transform in augTransforms() { XCTAssertTrue(transform.apply(batch, random: nil).scalars == batch.scalars) }
        let normalize = Normalize.fromStats(imagenetStats)
        let normalised = normalize.apply(batch, random: nil)
        XCTAssertTrue(abs(normalised[0, 0, 0, 0].item() - (batch[0, 0, 0, 0].item() - 0.485) / 0.229) < 1e-6)
        XCTAssertTrue(zip(normalize.decode(normalised).scalars, batch.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
        // Without lighting changes the logit round trip is the identity.
        let still = LightingAugment(maxLighting: 0).apply(batch, random: RandomGenerator(seed: 1))
        XCTAssertTrue(zip(still.scalars, batch.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
        let lit = LightingAugment(maxLighting: 0.2, p: 1).apply(batch, random: RandomGenerator(seed: 1))
        XCTAssertTrue(lit.scalars.allSatisfy { $0 > 0 && $0 < 1 } && lit.scalars != batch.scalars)
    }

    func testTheSameSeedGivesTheSameAugmentedBatches() throws {
        func batches(seed: UInt64, prefetch: Bool) throws -> [[Float]] {
            let dls = try ImageDataLoaders.fromNameRe(
                BundledData.photos, files: try getImageFiles(BundledData.photos), pattern: #"^(.+?)_"#,
                seed: 1, batchSize: 8, itemTransforms: [Resize(24)], batchTransforms: augTransforms())
            // The loader's generator, as `seed(_:)` before making the loaders would set it (set
            // directly here: tests run in parallel and share the global generator).
            dls.train.randomState = RandomGenerator(seed: seed).state
            dls.train.prefetch = prefetch
            return Array(dls.train.prefix(3)).map { $0.0.scalars }
        }
        let first = try batches(seed: 5, prefetch: true)
        XCTAssertTrue(try batches(seed: 5, prefetch: false) == first)
        XCTAssertTrue(try batches(seed: 6, prefetch: true) != first)
    }
}

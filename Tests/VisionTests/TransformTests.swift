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

    /// PIL's bilinear resize as `resized` computed it before its passes took vectors and rows:
    /// one output value at a time, each tap in turn.
    func referenceResized(_ image: Image, width w: Int, height h: Int) -> Image {
        let c = image.channels, bits = Int32(ResampleTaps.bits)
        var current = image
        if w != image.width {
            let taps = ResampleTaps(input: image.width, output: w)
            var out = [UInt8](repeating: 0, count: w * image.height * c)
            for y in 0..<image.height {
                for x in 0..<w {
                    for k in 0..<c {
                        var sum = Int32(1 << (bits - 1))
                        for t in 0..<taps.counts[x] {
                            sum &+= Int32(current.pixels[(y * image.width + taps.firsts[x] + t) * c + k]) &* taps.weights[x * taps.stride + t]
                        }
                        out[(y * w + x) * c + k] = UInt8(clamping: sum >> bits)
                    }
                }
            }
            current = Image(width: w, height: image.height, channels: c, pixels: out)
        }
        if h != image.height {
            let taps = ResampleTaps(input: image.height, output: h), rowLength = w * c
            var out = [UInt8](repeating: 0, count: rowLength * h)
            for y in 0..<h {
                for i in 0..<rowLength {
                    var sum = Int32(1 << (bits - 1))
                    for t in 0..<taps.counts[y] {
                        sum &+= Int32(current.pixels[(taps.firsts[y] + t) * rowLength + i]) &* taps.weights[y * taps.stride + t]
                    }
                    out[y * rowLength + i] = UInt8(clamping: sum >> bits)
                }
            }
            current = Image(width: w, height: h, channels: c, pixels: out)
        }
        return current
    }

    func testResizeGivesTheOneValueAtATimeResultBitForBit() {
        let generator = RandomGenerator(seed: 11)
        let cases: [(channels: Int, from: (Int, Int), to: (Int, Int))] = [
            (3, (97, 61), (24, 24)), (3, (40, 30), (81, 67)), (3, (5, 3), (2, 7)), (1, (64, 33), (17, 40)),
            (4, (31, 29), (12, 11)), (2, (18, 19), (7, 30)), (4, (23, 9), (6, 4)), (3, (224, 1), (64, 1)),
            (3, (1, 50), (1, 9)), (3, (300, 200), (224, 224)),
        ]
        for (c, (sw, sh), (w, h)) in cases {
            let image = Image(
                width: sw, height: sh, channels: c, pixels: (0..<(sw * sh * c)).map { _ in UInt8(generator.nextInt(below: 256)) })
            let fast = image.resized(width: w, height: h), reference = referenceResized(image, width: w, height: h)
            XCTAssertTrue(fast == reference, "\(c) channels, \(sw)x\(sh) to \(w)x\(h)")
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

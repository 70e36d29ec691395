import Foundation
import TestSupport
import XCTest
@testable import Codecs
@testable import DataBlocks
import Layers
@testable import Tensors
@testable import Vision

/// Points and masks follow their image through every geometric transform: item transforms by
/// the same `ItemGeometry` step, batch transforms by the same coordinate map (hand-computed
/// cases, then whole loaders whose targets are checked against the pixels).
final class MovingTargetTests: TemporaryFolderTestCase {
    let point = SIMD2<Float>(60, 20)

    func moved(_ transform: GeometricItemTransform, width: Int = 100, height: Int = 50) -> SIMD2<Float> {
        transform.geometry(width: width, height: height, random: nil).apply(toPoint: point, sourceWidth: width, sourceHeight: height)
    }

    func testPointsFollowResizesAndCropsExactly() {
        // 100×50 to 25×25. Squish: x·25/100, y·25/50.
        XCTAssertEqual(moved(Resize(25, method: .squish)), SIMD2(15, 10))
        // Crop (validation): the centre 50×50 window from x = 25, scaled by 25/50.
        XCTAssertEqual(moved(Resize(25)), SIMD2(17.5, 10))
        // Pad: a 100×100 window from y = -25, scaled by 25/100.
        XCTAssertEqual(moved(Resize(25, method: .pad)), SIMD2(15, 11.25))
        // RandomResizedCrop (validation): squished to 28×28 (20 + 8 extra), then the centre 20×20 from (4, 4).
        let p = moved(RandomResizedCrop(20))
        XCTAssertEqual(p.x, 60 * 28 / 100 - 4, accuracy: 1e-5)
        XCTAssertEqual(p.y, 20 * 28 / 50 - 4, accuracy: 1e-5)
        // A random crop moves the point by the window it drew, the same window the image gets.
        let random = RandomGenerator(seed: 9)
        let step = Resize(25).geometry(width: 100, height: 50, random: random)
        XCTAssertEqual(step.width, 50)
        XCTAssertEqual(step.apply(toPoint: point, sourceWidth: 100, sourceHeight: 50), SIMD2(Float(60 - step.left) / 2, 10))
    }

    func testMasksAreSampledNearestAndKeepOnlyTheirCodes() {
        // Each output pixel takes the input pixel under its centre: columns 1 and 3 of row 1.
        let mask = Image(width: 4, height: 2, channels: 1, pixels: [0, 1, 2, 3, 1, 1, 2, 2])
        XCTAssertEqual(mask.resizedNearest(width: 2, height: 1).pixels, [1, 2])
        let big = Image(width: 7, height: 5, channels: 1, pixels: (0..<35).map { UInt8($0 % 3) })
        for transform: GeometricItemTransform in [Resize(4), Resize(9, method: .pad), RandomResizedCrop(6)] {
            let out = transform.geometry(width: 7, height: 5, random: RandomGenerator(seed: 1)).apply(toMask: big)
            XCTAssertTrue(Set(out.pixels).isSubset(of: [0, 1, 2]), "\(transform): only the mask's own codes")
        }
    }

    func testPointsMoveThroughTheInverseOfEachAugmentationMap() {
        typealias Map = AffineAugment.CoordinateMap
        func movedPoint(_ map: Map, _ x: Float, _ y: Float) -> [Float] {
            AffineAugment.movePoints(Tensor(shape: [1, 1, 2], scalars: [x, y]), maps: [map]).scalars
        }
        // A flip sends the pixel at x to -x, so the point goes there too.
        XCTAssertEqual(movedPoint(Map(affine: [-1, 0, 0, 0, 1, 0]), 0.5, 0.2), [-0.5, 0.2])
        // A quarter turn whose output (x, y) reads input (y, -x): the input point (0.5, 0) is shown at (0, 0.5).
        XCTAssertEqual(movedPoint(Map(affine: [0, 1, 0, -1, 0, 0]), 0.5, 0), [0, 0.5])
        // A zoom by 2 about the centre reads input (x/2, y/2): input (0.25, -0.1) is shown at (0.5, -0.2).
        let zoomed = movedPoint(Map(affine: [0.5, 0, 0, 0, 0.5, 0]), 0.25, -0.1)
        assertClose(zoomed, [0.5, -0.2], rtol: 1e-6)
        // With a warp too: mapping the moved point forward (affine, then warp) gives the point back.
        let warp = homography(mapping: [(-1.1, -1), (-0.9, 1.05), (1.1, -0.95), (0.9, 1)], onto: [(-1, -1), (-1, 1), (1, -1), (1, 1)])!
        let map = Map(affine: [0.9, 0.2, 0.05, -0.2, 0.9, -0.1], warp: warp)
        let out = movedPoint(map, 0.3, -0.4)
        let (x, y) = (Double(out[0]), Double(out[1]))
        let (u, v) = (0.9 * x + 0.2 * y + 0.05, -0.2 * x + 0.9 * y - 0.1)
        let z = warp[6] * u + warp[7] * v + warp[8]
        XCTAssertEqual((warp[0] * u + warp[1] * v + warp[2]) / z, 0.3, accuracy: 1e-5)
        XCTAssertEqual((warp[3] * u + warp[4] * v + warp[5]) / z, -0.4, accuracy: 1e-5)
    }

    func testMasksMoveWithTheirImagesInABatch() {
        // A flip of a 1×3 row of codes is the row reversed, exactly (no blending of codes).
        let mask = Tensor(shape: [1, 1, 3], scalars: [0, 1, 2])
        let flipped = AffineAugment.resample(mask.unsqueeze(1), maps: [.init(affine: [-1, 0, 0, 0, 1, 0])], padMode: .reflection, nearest: true)
        XCTAssertEqual(flipped.scalars, [2, 1, 0])
        // Through the transform itself, images, points and masks draw the same maps.
        let augment = AffineAugment(maxRotate: 30, minZoom: 1, maxZoom: 1.3, maxWarp: 0.2, pAffine: 1)
        let images = Tensor.rand([2, 1, 8, 8])
        let (x1, _) = augment.apply(images, targets: Tensor.zeros([2, 8, 8]), geometry: .mask, random: RandomGenerator(seed: 4))
        let x2 = augment.apply(images, random: RandomGenerator(seed: 4))
        XCTAssertTrue(x1.scalars == x2.scalars, "the images are augmented as without targets")
        let normalize = Normalize(mean: [0.5], std: [0.25])
        let (_, untouched) = normalize.apply(images, targets: mask, geometry: .mask, random: nil)
        XCTAssertTrue(untouched.scalars == mask.scalars, "normalisation never touches a mask")
    }

    /// A folder of 40×30 black images, each with a 3×3 white square at a known place, its mask
    /// (code 1 on the square) beside it, and the square's centre in pixels.
    func squares(_ count: Int) throws -> [(image: URL, mask: URL, centre: SIMD2<Float>)] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let generator = RandomGenerator(seed: 77)
        return try (0..<count).map { i in
            let cx = 6 + generator.nextInt(below: 28), cy = 6 + generator.nextInt(below: 18)
            var pixels = [UInt8](repeating: 0, count: 40 * 30), codes = pixels
            for y in (cy - 1)...(cy + 1) { for x in (cx - 1)...(cx + 1) { pixels[y * 40 + x] = 255; codes[y * 40 + x] = 1 } }
            let image = folder.appendingPathComponent("square_\(i).png"), mask = folder.appendingPathComponent("square_\(i)_mask.png")
            try Data(PNG.encode(Image(width: 40, height: 30, channels: 1, pixels: pixels))).write(to: image)
            try Data(PNG.encode(Image(width: 40, height: 30, channels: 1, pixels: codes))).write(to: mask)
            return (image, mask, SIMD2(Float(cx) + 0.5, Float(cy) + 0.5))
        }
    }

    func testLoadersMovePointsWithTheirPixels() throws {
        seed(11)
        let items = try squares(24)
        let centres = Dictionary(uniqueKeysWithValues: items.map { ($0.image, $0.centre) })
        let block = DataBlock(
            blocks: (ImageBlock(), PointBlock()), getItems: { _ in items.map(\.image) }, splitter: RandomSplitter(validPct: 0.25, seed: 1),
            getY: { [centres[$0]!] }, itemTransforms: [Resize(32)],
            batchTransforms: augTransforms(maxRotate: 20, minZoom: 1, maxZoom: 1.2, maxLighting: 0, maxWarp: 0.1, pAffine: 1))
        let dls = try block.dataLoaders(folder, batchSize: 6)
        XCTAssertTrue(dls.lossFunction is MSELossFlat)
        for (x, y) in [dls.oneBatch(), dls.valid.oneBatch()] {
            XCTAssertEqual(y.shape, [6, 1, 2])
            for i in 0..<6 {
                // The brightest pixel's centre, in -1...1 as the points are scaled.
                let pixels = x[i].scalars
                let brightest = pixels.indices.max { pixels[$0] < pixels[$1] }!
                let bx = (Float(brightest % 32) + 0.5) / 16 - 1, by = (Float(brightest / 32) + 0.5) / 16 - 1
                let target = y[i].scalars
                XCTAssertEqual(target[0], bx, accuracy: 0.13, "item \(i): the point is where its square went")
                XCTAssertEqual(target[1], by, accuracy: 0.13, "item \(i): the point is where its square went")
            }
        }
    }

    func testLoadersMoveMasksWithTheirPixels() throws {
        seed(12)
        let items = try squares(24)
        let masks = Dictionary(uniqueKeysWithValues: items.map { ($0.image, $0.mask) })
        let block = DataBlock(
            blocks: (ImageBlock(), MaskBlock(codes: ["background", "square"])), getItems: { _ in items.map(\.image) },
            splitter: RandomSplitter(validPct: 0.25, seed: 1), getY: { masks[$0]! }, itemTransforms: [RandomResizedCrop(24, minScale: 0.5)],
            batchTransforms: augTransforms(maxRotate: 20, maxWarp: 0.1, pAffine: 1) + [Normalize(mean: [0.5], std: [0.5])])
        let dls = try block.dataLoaders(folder, batchSize: 6)
        XCTAssertTrue(dls.lossFunction is CrossEntropyLossFlat)
        XCTAssertEqual(dls.vocab, ["background", "square"])
        for (x, y) in [dls.oneBatch(), dls.valid.oneBatch()] {
            XCTAssertEqual(y.shape, [6, 24, 24])
            XCTAssertTrue(Set(y.scalars).isSubset(of: [0, 1]), "codes only, never blended")
            let images = dls.decode(x)
            for i in 0..<6 {
                let bright = Set(images[i].scalars.indices.filter { images[i].scalars[$0] > 0.5 })
                let marked = Set(y[i].scalars.indices.filter { y[i].scalars[$0] == 1 })
                guard !bright.isEmpty || !marked.isEmpty else { continue }  // the square was cropped away
                let overlap = Float(bright.intersection(marked).count) / Float(bright.union(marked).count)
                XCTAssertGreaterThan(overlap, 0.4, "item \(i): the mask covers the square's pixels")
            }
        }
        // A mask of another size than its image, or with a code outside the codes, is an error naming it.
        let bad = folder.appendingPathComponent("bad_mask.png")
        try Data(PNG.encode(Image(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 0, count: 16)))).write(to: bad)
        let wrongSize = DataBlock(
            blocks: (ImageBlock(), MaskBlock(codes: ["a", "b"])), getItems: { _ in items.map(\.image) }, splitter: RandomSplitter(seed: 1),
            getY: { $0 == items[3].image ? bad : masks[$0]! })
        XCTAssertThrowsError(try wrongSize.dataLoaders(folder)) { error in
            XCTAssertTrue("\(error)".contains("bad_mask.png: the mask is 4x4 but its image square_3.png is 40x30"), "\(error)")
        }
        let oneCode = DataBlock(
            blocks: (ImageBlock(), MaskBlock(codes: ["background"])), getItems: { _ in items.map(\.image) }, splitter: RandomSplitter(seed: 1),
            getY: { masks[$0]! })
        XCTAssertThrowsError(try oneCode.dataLoaders(folder)) { error in
            XCTAssertTrue("\(error)".contains("holds code 1, but MaskBlock has 1 codes"), "\(error)")
        }
    }
}

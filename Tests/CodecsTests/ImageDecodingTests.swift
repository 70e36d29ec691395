import Foundation
import XCTest
@testable import Codecs
import Tensors

/// The JPEG decoder against libjpeg-turbo's output (fixtures made by
/// `Tests/Fixtures/make_image_fixtures.py`: `<name>.jpg` and its reference decode `<name>.png`).
final class JPEGTests: XCTestCase {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("ImageFixtures")

    static var fixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".jpg") && !$0.hasPrefix("error_") }.map { String($0.dropLast(4)) }.sorted()
    }

    func testFixturesAreThere() {
        XCTAssertTrue(Self.fixtureNames.count >= 17)
    }

    func testDecodesLikeLibjpegTurbo() throws {
        try Self.assertDecodesExactly(Self.fixtureNames, in: Self.folder)
    }

    /// Opt-in, on real photographs: `FASTSWIFT_JPEG_REFERENCE_DIR` names a folder of `.jpg`
    /// files each with PIL's decode beside it as `.png`
    /// (`../ref-venv/bin/python Benchmarks/compare_pil_jpeg.py --keep DIR` writes one).
    func testDecodesPhotosLikePIL() throws {
        guard let path = ProcessInfo.processInfo.environment["FASTSWIFT_JPEG_REFERENCE_DIR"] else {
            throw XCTSkip("set FASTSWIFT_JPEG_REFERENCE_DIR to a folder of JPEGs with PIL's decodes as PNGs")
        }
        let folder = URL(fileURLWithPath: path)
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".jpg") }.map { String($0.dropLast(4)) }
        XCTAssertFalse(names.isEmpty, "no .jpg files in \(path)")
        try Self.assertDecodesExactly(names.sorted(), in: folder)
    }

    /// Every `<name>.jpg` decodes to exactly the pixels of `<name>.png` (libjpeg-turbo's decode).
    static func assertDecodesExactly(_ names: [String], in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        for name in names {
            let decoded = try Image.open(folder.appendingPathComponent(name + ".jpg"))
            let reference = try Image.open(folder.appendingPathComponent(name + ".png"))
            XCTAssertTrue(decoded.width == reference.width && decoded.height == reference.height, "\(name)", file: file, line: line)
            XCTAssertTrue(decoded.channels == reference.channels, "\(name)", file: file, line: line)
            guard decoded.pixels.count == reference.pixels.count else { continue }
            let differing = zip(decoded.pixels, reference.pixels).filter { $0 != $1 }.count
            XCTAssertTrue(differing == 0, "\(name): \(differing) samples differ from libjpeg-turbo's", file: file, line: line)
        }
    }

    func testHeaderReadsTheSizeWithoutDecoding() throws {
        let bytes = try readFileBytes(Self.folder.appendingPathComponent("orientation_6.jpg"))
        let header = try Image.header(bytes, source: "orientation_6.jpg")
        let image = try Image.decode(bytes, source: "orientation_6.jpg")
        XCTAssertTrue(header.width == image.width && header.height == image.height && header.channels == 3)
        XCTAssertTrue(image.width == 31 && image.height == 20)  // stored 20x31, turned a quarter
    }

    func testUnsupportedKindsAreNamed() throws {
        XCTAssertThrowsError(try Image.open(Self.folder.appendingPathComponent("error_cmyk.jpg"))) { XCTAssertTrue($0 is DataError, "\($0)") }
        do {
            _ = try Image.open(Self.folder.appendingPathComponent("error_cmyk.jpg"))
        } catch let error as DataError {
            XCTAssertTrue(error.reason.contains("CMYK"))
        }
        do {
            _ = try Image.open(Self.folder.appendingPathComponent("error_arithmetic.jpg"))
            XCTFail("arithmetic coding decoded")
        } catch let error as DataError {
            XCTAssertTrue(error.reason.contains("arithmetic"))
        }
    }
}

/// PNG kinds beyond 8-bit non-interlaced (fixtures from `make_image_fixtures.py`'s own writer,
/// which cycles through the five filters): each must decode to its 8-bit `.expected.png`.
final class PNGKindTests: XCTestCase {
    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: JPEGTests.folder.path)) ?? [])
            .filter { $0.hasPrefix("png_") && !$0.contains(".expected") }.map { String($0.dropLast(4)) }.sorted()
    }

    func testFixturesAreThere() { XCTAssertTrue(Self.names.count == 9) }

    func testDecodesTo8Bit() throws {
        for name in Self.names {
            let decoded = try Image.open(JPEGTests.folder.appendingPathComponent(name + ".png"))
            let expected = try Image.open(JPEGTests.folder.appendingPathComponent(name + ".expected.png"))
            XCTAssertTrue(decoded == expected, "\(name)")
            let bytes = try readFileBytes(JPEGTests.folder.appendingPathComponent(name + ".png"))
            let header = try Image.header(bytes, source: name)
            XCTAssertTrue(header.width == decoded.width && header.height == decoded.height, "\(name)")
        }
    }
}

/// Hostile and damaged JPEGs: thrown errors, never a crash, a hang or a huge allocation.
final class HostileJPEGTests: XCTestCase {
    /// The fixture's bytes with the frame header's size replaced.
    func withSize(_ name: String, width: Int, height: Int) throws -> [UInt8] {
        var bytes = try readFileBytes(JPEGTests.folder.appendingPathComponent(name))
        guard let sof = bytes.indices.dropLast().first(where: { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }) else {
            XCTFail("no SOF in \(name)")
            return bytes
        }
        bytes[sof + 5] = UInt8(height >> 8); bytes[sof + 6] = UInt8(height & 0xFF)
        bytes[sof + 7] = UInt8(width >> 8); bytes[sof + 8] = UInt8(width & 0xFF)
        return bytes
    }

    func testDeclaredSizesAreCheckedBeforeAllocating() throws {
        do {
            _ = try JPEG.decode(try withSize("baseline_420.jpg", width: 60000, height: 60000), source: "big.jpg")
            XCTFail("60000x60000 decoded")
        } catch let error as DataError {
            XCTAssertTrue(error.description == "big.jpg: JPEG of 60000x60000 pixels is larger than the 268435456 allowed (DataLimits.pixels)")
        }
        // Within the pixel limit, but a 1 KB file cannot hold the blocks of 8000x8000 pixels.
        do {
            _ = try JPEG.decode(try withSize("baseline_420.jpg", width: 8000, height: 8000), source: "small.jpg")
            XCTFail("8000x8000 in 1 KB decoded")
        } catch let error as DataError {
            XCTAssertTrue(error.reason.contains("too few for its"), "\(error)")
        }
    }

    func testTruncatedFilesSayTheyAreTruncated() throws {
        for name in ["baseline_420.jpg", "progressive_420.jpg", "restart_progressive.jpg"] {
            let bytes = try readFileBytes(JPEGTests.folder.appendingPathComponent(name))
            do {
                _ = try JPEG.decode(Array(bytes.prefix(bytes.count * 2 / 3)), source: name)
                XCTFail("\(name) cut to two thirds decoded")
            } catch let error as DataError {
                XCTAssertTrue(error.reason.contains("truncated"), "\(error)")
            }
        }
    }

    func testMutatedJPEGsNeverCrash() throws {
        let g = RandomGenerator(seed: 7)
        var thrown = 0, decoded = 0
        for name in ["baseline_420.jpg", "progressive_420.jpg", "restart_progressive.jpg", "gray_progressive.jpg", "sampling_411.jpg"] {
            let original = try readFileBytes(JPEGTests.folder.appendingPathComponent(name))
            for round in 0..<800 {
                var data = original
                switch round % 4 {
                case 0: data = Array(data.prefix(g.nextInt(below: data.count)))
                case 1: for _ in 0...g.nextInt(below: 4) { data[g.nextInt(below: data.count)] = UInt8(g.nextInt(below: 256)) }
                case 2:  // damage the headers: the first 400 bytes hold the tables and the frame
                    for _ in 0...g.nextInt(below: 2) { data[g.nextInt(below: min(400, data.count))] = UInt8(g.nextInt(below: 256)) }
                default:  // a marker's byte: segments change kind or length
                    let markers = data.indices.dropLast().filter { data[$0] == 0xFF && data[$0 + 1] != 0 }
                    if let at = markers.isEmpty ? nil : markers[g.nextInt(below: markers.count)] {
                        data[min(at + 1 + g.nextInt(below: 3), data.count - 1)] = UInt8(g.nextInt(below: 256))
                    }
                }
                do {
                    let image = try Image.decode(data, source: "mutant.jpg")
                    XCTAssertTrue(image.pixels.count == image.width * image.height * image.channels)
                    decoded += 1
                } catch is DataError { thrown += 1 }
            }
        }
        XCTAssertTrue(thrown + decoded == 4000)
        XCTAssertTrue(thrown > 1000, "most mutations are caught (\(thrown) thrown, \(decoded) decoded)")
    }
}

import Foundation
import TestSupport
import XCTest
@testable import Codecs
@testable import Tensors

final class FormatTests: XCTestCase {
    /// The text behind CompressedVectors.swift.
    static let text = Array((0..<400).map { "line \($0): the quick brown fox jumps over the lazy dog\n" }.joined().utf8)

    private func bytes(_ base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64)!) }

    func testInflateAllBlockTypes() throws {
        XCTAssertEqual(try GZip.decompress(bytes(gzipLevel9), source: "level9.gz"), Self.text, "dynamic Huffman blocks")
        XCTAssertEqual(try GZip.decompress(bytes(gzipLevel1Prefix), source: "level1.gz"), Array(Self.text[0..<100]))
        XCTAssertEqual(try Inflate.decompress(bytes(rawFixedHuffman), source: "fixed").output, Self.text, "fixed Huffman blocks")
        XCTAssertEqual(try Inflate.decompress(bytes(rawStored), source: "stored").output, Array(Self.text[0..<5000]), "stored blocks")
        // Two gzip members concatenated decode to both contents.
        let twice = bytes(gzipLevel1Prefix) + bytes(gzipLevel1Prefix)
        XCTAssertEqual(try GZip.decompress(twice, source: "two.gz"), Array(Self.text[0..<100]) + Array(Self.text[0..<100]))
    }

    func testCorruptCompressedDataThrowsNamingTheFile() {
        var data = bytes(gzipLevel9)
        data[data.count - 6] ^= 0xFF  // inside the CRC
        XCTAssertThrowsError(try GZip.decompress(data, source: "bad.gz")) { error in
            XCTAssertEqual((error as? DataError)?.source, "bad.gz")
            XCTAssertTrue("\(error)".contains("CRC"), "\(error)")
        }
        XCTAssertThrowsError(try GZip.decompress(Array(bytes(gzipLevel9).prefix(500)), source: "short.gz")) { error in
            XCTAssertTrue("\(error)".contains("short.gz: truncated"), "\(error)")
        }
        XCTAssertThrowsError(try GZip.decompress([1, 2, 3], source: "x.gz")) { error in
            XCTAssertEqual("\(error)", "x.gz: not a gzip file (bad magic bytes)")
        }
        XCTAssertThrowsError(try Inflate.decompress(bytes(gzipLevel9), from: 10, source: "bomb", limit: 1000)) { error in
            XCTAssertTrue("\(error)".contains("larger than the 1000 bytes allowed"), "\(error)")
        }
    }

    func testPNGRoundTripForEveryChannelCount() throws {
        let g = RandomGenerator(seed: 1)
        for channels in 1...4 {
            let pixels = (0..<(7 * 5 * channels)).map { _ in UInt8(g.nextInt(below: 256)) }
            let image = Image(width: 7, height: 5, channels: channels, pixels: pixels)
            XCTAssertEqual(try PNG.decode(PNG.encode(image), source: "roundtrip.png"), image)
        }
    }

    func testBundledMNISTDigitDecodes() throws {
        let url = RepositoryFiles.mnistSample.appendingPathComponent("training/7")
        let file = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().first!
        let image = try PNG.decode([UInt8](Data(contentsOf: url.appendingPathComponent(file))), source: file)
        XCTAssertEqual([image.width, image.height, image.channels], [28, 28, 1])
        let t = image.tensor()
        XCTAssertEqual(t.shape, [1, 28, 28])
        XCTAssertEqual(t.max().item(), 1, accuracy: 0.05, "a digit has bright strokes")
        XCTAssertEqual(t[0, 0].sum().item(), 0, "and an empty border")
        XCTAssertEqual(image.tensor(channels: 3).shape, [3, 28, 28])
    }

    func testPNGFiltersAndPalettes() throws {
        // A 3x2 RGB image whose rows use the Sub and Paeth filters, and a 2-bit palette image:
        // built here byte by byte so that each decoding path is pinned by hand.
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let t = Array(type.utf8)
            let be: (UInt32) -> [UInt8] = { [UInt8($0 >> 24), UInt8(($0 >> 16) & 0xFF), UInt8(($0 >> 8) & 0xFF), UInt8($0 & 0xFF)] }
            return be(UInt32(data.count)) + t + data + be(Checksum.crc32(data, continuing: Checksum.crc32(t)))
        }
        func zlibStored(_ raw: [UInt8]) -> [UInt8] {
            let n = raw.count
            let adler = Checksum.adler32(raw)
            return [0x78, 0x01, 1, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)] + raw
                + [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        }
        func png(width: UInt8, height: UInt8, depth: UInt8, colour: UInt8, extra: [UInt8] = [], raw: [UInt8]) -> [UInt8] {
            PNG.signature + chunk("IHDR", [0, 0, 0, width, 0, 0, 0, height, depth, colour, 0, 0, 0]) + extra
                + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
        }
        // Row 0, Sub: deltas from the pixel to the left. Row 1, Paeth against row 0.
        let rgb = png(
            width: 3, height: 2, depth: 8, colour: 2,
            raw: [
                1, 10, 20, 30, 1, 1, 1, 2, 2, 2,
                4, 5, 5, 5, 0, 0, 0, 1, 1, 1,
            ])
        let decoded = try PNG.decode(rgb, source: "filters.png")
        XCTAssertEqual(
            decoded.pixels,
            [
                10, 20, 30, 11, 21, 31, 13, 23, 33,
                15, 25, 35, 15, 25, 35, 16, 26, 36,
            ])
        // Palette, 2 bits per pixel: indices 0,1,2,3 then 3,2,1,0; entry 1 half transparent.
        let palette = chunk("PLTE", [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]) + chunk("tRNS", [255, 128])
        let indexed = png(width: 4, height: 2, depth: 2, colour: 3, extra: palette, raw: [0, 0b0001_1011, 0, 0b1110_0100])
        let p = try PNG.decode(indexed, source: "palette.png")
        XCTAssertEqual(p.channels, 4)
        XCTAssertEqual(Array(p.pixels[0..<8]), [0, 0, 0, 255, 255, 0, 0, 128])
        XCTAssertEqual(Array(p.pixels[28..<32]), [0, 0, 0, 255])
        // What is refused, and how.
        let sixteen = png(width: 1, height: 1, depth: 16, colour: 0, raw: [0, 0x12, 0x34])
        XCTAssertEqual(try PNG.decode(sixteen, source: "deep.png").pixels, [0x12])  // the high byte
        let deepPalette = png(width: 1, height: 1, depth: 16, colour: 3, raw: [0, 0, 0])
        XCTAssertThrowsError(try PNG.decode(deepPalette, source: "deep.png")) { error in
            XCTAssertEqual("\(error)", "deep.png: corrupt PNG: colour type 3 with bit depth 16 is not valid")
        }
        let badFilter = png(width: 1, height: 1, depth: 8, colour: 0, raw: [9, 0])
        XCTAssertThrowsError(try PNG.decode(badFilter, source: "f.png")) { error in
            XCTAssertEqual("\(error)", "f.png: corrupt PNG: unknown filter type 9 on row 0")
        }
    }

    func testIDX() throws {
        let file: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + [0, 255, 51, 0, 0, 0, 0, 255]
        let images = try IDX.images(file, source: "t.idx")
        XCTAssertEqual(images.shape, [2, 1, 2, 2])
        assertClose(images.scalars, [0, 1, 0.2, 0, 0, 0, 0, 1])
        XCTAssertEqual(try IDX.labels([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9], source: "l.idx"), Tensor([7, 2, 9]))
        XCTAssertThrowsError(try IDX.labels([0, 0, 8, 1, 0, 0, 0, 9, 7], source: "l.idx")) { error in
            XCTAssertEqual("\(error)", "l.idx: the IDX header declares [9] = 9 values but the file holds 1")
        }
        XCTAssertThrowsError(try IDX.labels([0, 0, 0x0D, 1, 0, 0, 0, 1, 7, 0, 0, 0], source: "f.idx")) { error in
            XCTAssertTrue("\(error)".contains("unsupported IDX element type 0xd"))
        }
    }

    /// Thousands of mutated inputs through every decoder: each must throw or succeed, never
    /// crash. (Hangs are ruled out by construction: every decoder loop is bounded by its input or
    /// by the output limit, here 1 MB for gzip; timing stays out of tests.)
    func testMutatedInputsNeverCrash() throws {
        let digitFolder = RepositoryFiles.mnistSample.appendingPathComponent("testing/3")
        let pngFile = try FileManager.default.contentsOfDirectory(atPath: digitFolder.path).sorted().first!
        let png = [UInt8](try Data(contentsOf: digitFolder.appendingPathComponent(pngFile)))
        let gz = bytes(gzipLevel9)
        let idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 51, 0, 0, 0, 0, 255]
        let g = RandomGenerator(seed: 77)
        var outcomes = (ok: 0, thrown: 0)
        for round in 0..<3000 {
            for original in [png, gz, idx] {
                var data = original
                switch round % 4 {
                case 0: data = Array(data.prefix(g.nextInt(below: data.count)))  // truncation
                case 1: for _ in 0...g.nextInt(below: 4) { data[g.nextInt(below: data.count)] ^= UInt8(1 + g.nextInt(below: 255)) }
                case 2:  // a length or size field set huge
                    let at = g.nextInt(below: max(1, data.count - 4))
                    for k in 0..<4 where at + k < data.count { data[at + k] = 0xFF }
                default:
                    data.insert(
                        contentsOf: (0..<g.nextInt(below: 20)).map { _ in UInt8(g.nextInt(below: 256)) },
                        at: g.nextInt(below: data.count))
                }
                do {
                    if original == png {
                        _ = try PNG.decode(data, source: "m.png")
                    } else if original == gz {
                        _ = try GZip.decompress(data, source: "m.gz", limit: 1 << 20)
                    } else {
                        _ = try IDX.read(data, source: "m.idx")
                    }
                    outcomes.ok += 1
                } catch is DataError {
                    outcomes.thrown += 1
                }
            }
        }
        XCTAssertGreaterThan(outcomes.thrown, 5000, "most mutations are caught")
    }
}

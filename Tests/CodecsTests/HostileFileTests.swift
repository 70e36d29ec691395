import Foundation
import TestSupport
import XCTest
@testable import Codecs
@testable import Tensors

/// Files made to break the decoders (issue 12's probes): each must give a specific `DataError`,
/// never a trap, and sizes must be refused before anything is allocated for them.
final class HostileFileTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-hostile-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// A safetensors file with this JSON header (padded to 8 bytes) and `data` after it.
    func safetensors(_ header: String, data: [UInt8] = [], name: String = "t.safetensors") throws -> URL {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(32) }
        var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
        bytes += json + data
        let file = folder.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }

    func assertRefused(_ header: String, data: [UInt8] = [], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try safetensors(header, data: data)
        XCTAssertThrowsError(try SafeTensors.read(url), file: file, line: line) { error in
            XCTAssertTrue(error is DataError, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".hasPrefix(url.path), "names the file: \(error)", file: file, line: line)
        }
    }

    func testSafeTensorsIsValidatedAsStrictlyAsTheReference() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        // The well-formed file these probes break.
        let good = try SafeTensors.read(try safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight))
        XCTAssertEqual(good.tensors["a"], Tensor([0, 0]))
        try assertRefused(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight, "'a' has a negative size in its shape [-2]")
        try assertRefused(
            #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: eight,
            "more bytes than can be addressed")
        try assertRefused(
            #"{"a":{"dtype":"F32","shape":[1073741824,2],"data_offsets":[0,8]}}"#, data: eight,
            "needs 8589934592 bytes, its byte range [0, 8] holds 8")
        try assertRefused(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}}"#,
            data: eight, "needs 8 bytes")
        try assertRefused(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: eight, "has byte range [8, 0]")
        try assertRefused(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            data: eight, "overlaps the tensor before it")
        try assertRefused(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight, "a gap of 4 bytes before 'a'")
        try assertRefused(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight, "4 bytes after the last tensor")
        try assertRefused(
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: eight,
            "truncated safetensors file: the header describes 16 bytes of data, the file holds 8")
        try assertRefused(#"{"__metadata__":{"n":3}}"#, "__metadata__ must map strings to strings")
        try assertRefused(#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, data: eight, "unsupported dtype F16 for 'a'")
        try assertRefused(#"[1, 2]"#, "the header is not a JSON object")
        // A header length past the reference's 100 MB limit (and past the end) is refused unread.
        var huge: [UInt8] = [0, 0, 0, 0x10, 0, 0, 0, 0]
        huge += [UInt8](repeating: 32, count: 8)
        let hugeFile = folder.appendingPathComponent("huge.safetensors")
        try Data(huge).write(to: hugeFile)
        XCTAssertThrowsError(try SafeTensors.read(hugeFile)) { XCTAssertTrue("\($0)".contains("runs past the end"), "\($0)") }
    }

    func testWritingRefusesToReplaceAFolderAndReplacesAFileWhole() throws {
        let target = folder.appendingPathComponent("thesis")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("chapters"), withIntermediateDirectories: true)
        try Data("my thesis".utf8).write(to: target.appendingPathComponent("thesis.txt"))
        XCTAssertThrowsError(try SafeTensors.write(["a": Tensor([1])], to: target)) { error in
            XCTAssertEqual("\(error)", "\(target.path): is a folder; refusing to replace it with a file (choose a file name inside it)")
        }
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("thesis.txt"), encoding: .utf8), "my thesis")
        XCTAssertTrue(FileManager.default.fileExists(atPath: target.appendingPathComponent("chapters").path))
        // A file is replaced by the new one, and no temporary file is left behind.
        let file = folder.appendingPathComponent("w.safetensors")
        try SafeTensors.write(["a": Tensor([1])], to: file)
        try SafeTensors.write(["b": Tensor([2, 3])], to: file)
        XCTAssertEqual(try SafeTensors.read(file).tensors, ["b": Tensor([2, 3])])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["thesis", "w.safetensors"])
    }

    func testMutatedSafeTensorsNeverCrash() throws {
        let file = folder.appendingPathComponent("m.safetensors")
        try SafeTensors.write(["w": Tensor.randn([3, 4]), "b": Tensor([1, 2, 3])], metadata: ["k": "v"], to: file)
        let original = [UInt8](try Data(contentsOf: file))
        let g = RandomGenerator(seed: 91)
        var thrown = 0
        for round in 0..<2000 {
            var data = original
            switch round % 3 {
            case 0: data = Array(data.prefix(g.nextInt(below: data.count)))
            case 1: for _ in 0...g.nextInt(below: 4) { data[g.nextInt(below: data.count)] = UInt8(g.nextInt(below: 256)) }
            default:  // a digit of the JSON header replaced: sizes and offsets change
                let digits = data.indices.filter { $0 >= 8 && $0 < 8 + 200 && data[$0] >= 48 && data[$0] <= 57 }
                if let at = digits.isEmpty ? nil : digits[g.nextInt(below: digits.count)] {
                    data[at] = [UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "0")][g.nextInt(below: 3)]
                }
            }
            let url = folder.appendingPathComponent("mutant.safetensors")
            try Data(data).write(to: url)
            do { _ = try SafeTensors.read(url) } catch is DataError { thrown += 1 }
        }
        XCTAssertGreaterThan(thrown, 1000, "most mutations are caught")
    }

    /// A PNG with only its signature and IHDR (with a correct CRC).
    func pngHeader(width: UInt32, height: UInt32, colour: UInt8 = 6) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        let body = Array("IHDR".utf8) + be(width) + be(height) + [8, colour, 0, 0, 0]
        return PNG.signature + be(13) + body + be(Checksum.crc32(body))
    }

    func testImageAndArchiveSizesAreCheckedBeforeAllocating() throws {
        XCTAssertThrowsError(try PNG.decode(pngHeader(width: 0xFFFF_FFFF, height: 0xFFFF_FFFF), source: "o.png")) { error in
            XCTAssertEqual("\(error)", "o.png: PNG of 4294967295x4294967295 pixels is larger than the 268435456 allowed (DataLimits.pixels)")
        }
        XCTAssertThrowsError(try PNG.decode(pngHeader(width: 60000, height: 60000), source: "big.png")) { error in
            XCTAssertTrue("\(error)".contains("PNG of 60000x60000 pixels is larger than"), "\(error)")
        }
        // 16384 x 16384 RGBA is within the pixel limit but decodes to more than 1 GiB.
        XCTAssertThrowsError(try PNG.decode(pngHeader(width: 16384, height: 16384) + [0, 0, 0, 0], source: "wide.png")) { error in
            XCTAssertTrue("\(error)".contains("would decode to more than the 1073741824 bytes allowed"), "\(error)")
        }
        // The limits are settings.
        let saved = DataLimits.pixels
        DataLimits.pixels = 100
        defer { DataLimits.pixels = saved }
        XCTAssertThrowsError(try PNG.decode(pngHeader(width: 11, height: 10), source: "s.png")) { error in
            XCTAssertTrue("\(error)".contains("larger than the 100 allowed"), "\(error)")
        }
        // IDX sizes whose product overflows.
        let idx: [UInt8] = [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2, 3]
        XCTAssertThrowsError(try IDX.read(idx, source: "o.idx")) { error in
            XCTAssertEqual(
                "\(error)", "o.idx: the IDX header declares sizes [4294967295, 4294967295, 4294967295] whose product is too large to address")
        }
        // An overflow followed by a zero size must not pass as 0 values (it used to, then trapped
        // building the tensor); nor through `images`, which reshapes to [n, 1, h, w].
        let overflowThenZero: [UInt8] = [0, 0, 8, 4] + [UInt8](repeating: 0xFF, count: 12) + [0, 0, 0, 0]
        for read in [{ _ = try IDX.read($0, source: "z.idx") }, { _ = try IDX.images($0, source: "z.idx") }] as [([UInt8]) throws -> Void] {
            XCTAssertThrowsError(try read(overflowThenZero)) { error in
                XCTAssertTrue("\(error)".contains("whose product is too large to address"), "\(error)")
            }
        }
        XCTAssertEqual(try IDX.read([0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 5], source: "e.idx").shape, [0, 5])
    }

    func testGzipOutputIsCappedAsItIsProduced() throws {
        let zeros = ArchiveWriter.gzip([UInt8](repeating: 0, count: 300_000))
        let saved = DataLimits.decompressedBytes
        DataLimits.decompressedBytes = 100_000
        defer { DataLimits.decompressedBytes = saved }
        XCTAssertThrowsError(try GZip.decompress(zeros, source: "bomb.gz")) { error in
            XCTAssertTrue(error is DataError, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("bomb.gz: "), "\(error)")
        }
        DataLimits.decompressedBytes = saved
        XCTAssertEqual(try GZip.decompress(zeros, source: "ok.gz").count, 300_000)
    }

    func testTarBase256SizesAreReadOrRefused() throws {
        var archive = ArchiveWriter.tar([("a.txt", Array("hello".utf8))])
        func setSize(_ field: [UInt8]) {
            for i in 0..<12 { archive[124 + i] = field[i] }
            for i in 148..<156 { archive[i] = 32 }
            let sum = archive[0..<512].reduce(0) { $0 + Int($1) }
            for (i, b) in (ArchiveWriter.octal(sum, digits: 6) + "\0 ").utf8.enumerated() { archive[148 + i] = b }
        }
        setSize([0x80] + [UInt8](repeating: 0, count: 10) + [5])  // base-256 for 5: read as 5
        XCTAssertEqual(try Tar.entries(archive, source: "a.tar").first?.contents, Array("hello".utf8)[...])
        setSize([UInt8](repeating: 0xBF, count: 12))  // base-256, far past Int
        XCTAssertThrowsError(try Tar.entries(archive, source: "b.tar")) { error in
            XCTAssertEqual("\(error)", "b.tar: corrupt tar archive: the size field at byte 0 is too large")
        }
        setSize([0xFF] + [UInt8](repeating: 0xFF, count: 11))  // negative base-256
        XCTAssertThrowsError(try Tar.entries(archive, source: "c.tar")) { error in
            XCTAssertTrue("\(error)".contains("negative base-256 number"), "\(error)")
        }
        setSize([0x80] + [UInt8](repeating: 0, count: 4) + [0x7F] + [UInt8](repeating: 0xFF, count: 6))  // 2^55-ish: past the end
        XCTAssertThrowsError(try Tar.entries(archive, source: "d.tar")) { error in
            XCTAssertTrue("\(error)".contains("runs past the end"), "\(error)")
        }
    }
}

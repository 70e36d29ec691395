import Foundation
import XCTest
@testable import Codecs
import Tensors
import TestSupport

final class ArchiveTests: XCTestCase {
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testTarMembersAndLongNames() throws {
        let long = "mnist_png/" + String(repeating: "deep/", count: 30) + "1.png"
        let archive = ArchiveWriter.tar([("mnist_png/", nil), ("mnist_png/a.txt", Array("hello".utf8)), (long, [1, 2, 3])])
        let entries = try Tar.entries(archive, source: "t.tar")
        XCTAssertEqual(entries.map(\.path), ["mnist_png/", "mnist_png/a.txt", long])
        XCTAssertEqual(entries.map(\.kind), [.directory, .file, .file])
        XCTAssertEqual(Array(entries[1].contents), Array("hello".utf8))
        XCTAssertEqual(Array(entries[2].contents), [1, 2, 3])
    }

    func testCorruptTarThrowsNamingTheFile() {
        var archive = ArchiveWriter.tar([("a.txt", Array("hello".utf8))])
        archive[10] ^= 0xFF
        XCTAssertThrowsError(try Tar.entries(archive, source: "bad.tar")) { error in
            XCTAssertEqual("\(error)", "bad.tar: corrupt tar archive: header checksum mismatch at byte 0")
        }
        let short = Array(ArchiveWriter.tar([("a.txt", [UInt8](repeating: 7, count: 2000))]).prefix(1000))
        XCTAssertThrowsError(try Tar.entries(short, source: "short.tar")) { error in
            XCTAssertTrue("\(error)".contains("short.tar: truncated tar archive"), "\(error)")
        }
    }

    func testMutatedArchivesNeverCrash() {
        let archive = ArchiveWriter.tar([("a/", nil), ("a/b.txt", Array("hello world".utf8)), ("a/c", [UInt8](repeating: 1, count: 700))])
        let g = RandomGenerator(seed: 5)
        for round in 0..<2000 {
            var data = archive
            if round % 2 == 0 {
                data = Array(data.prefix(g.nextInt(below: data.count)))
            } else {
                for _ in 0...g.nextInt(below: 3) { data[g.nextInt(below: data.count)] = UInt8(g.nextInt(below: 256)) }
            }
            _ = try? Tar.entries(data, source: "m.tar")
        }
    }
}

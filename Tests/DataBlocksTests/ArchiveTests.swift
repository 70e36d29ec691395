import Foundation
import XCTest
@testable import DataBlocks

/// Builds small archives for the tests: ustar members (GNU long names past 100 bytes) and
/// gzip with stored DEFLATE blocks.
enum ArchiveWriter {
    static func header(_ name: String, size: Int, type: UInt8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ at: Int) { for (i, b) in text.utf8.enumerated() { h[at + i] = b } }
        put(String(name.prefix(100)), 0)
        put("0000644", 100); put("0000000", 108); put("0000000", 116)
        put(octal(size, digits: 11), 124)
        put("00000000000", 136)
        h[156] = type
        put("ustar", 257); put("00", 263)
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, digits: 6) + "\0 ", 148)
        return h
    }

    static func octal(_ value: Int, digits: Int) -> String {
        let text = String(value, radix: 8)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func tar(_ members: [(String, [UInt8]?)]) -> [UInt8] {
        var out: [UInt8] = []
        func padded(_ data: [UInt8]) -> [UInt8] { data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512) }
        for (name, data) in members {
            if name.utf8.count > 100 {
                let long = Array(name.utf8) + [0]
                out += header("././@LongLink", size: long.count, type: UInt8(ascii: "L")) + padded(long)
            }
            if let data {
                out += header(name, size: data.count, type: UInt8(ascii: "0")) + padded(data)
            } else {
                out += header(name, size: 0, type: UInt8(ascii: "5"))
            }
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    static func gzip(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            out += [offset + n == data.count ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        let crc = Checksum.crc32(data), size = UInt32(truncatingIfNeeded: data.count)
        for v in [crc, size] { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        return out
    }
}

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

    private func temporaryCache() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-cache-\(UUID().uuidString)")
    }

    func testUntarDataUnpacksAVerifiedArchiveOnce() throws {
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let tgz = ArchiveWriter.gzip(ArchiveWriter.tar([("tiny/", nil), ("tiny/training/3/1.png", [9, 9]), ("tiny/labels.csv", Array("x".utf8))]))
        let archive = DatasetArchive(url: URL(string: "https://example.invalid/data/tiny.tgz")!, sha256: SHA256.hex(tgz), folder: "tiny")
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("archive"), withIntermediateDirectories: true)
        try Data(tgz).write(to: cache.appendingPathComponent("archive/tiny.tgz"))
        let path = try untarData(archive, cache: cache, download: false)
        XCTAssertEqual(path.lastPathComponent, "tiny")
        XCTAssertEqual(try Data(contentsOf: path.appendingPathComponent("training/3/1.png")), Data([9, 9]))
        // Nothing half-done is left beside it.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("data").path)
        XCTAssertEqual(siblings, ["tiny"])
        // The second call finds the folder and does not need the archive.
        try FileManager.default.removeItem(at: cache.appendingPathComponent("archive/tiny.tgz"))
        XCTAssertEqual(try untarData(archive, cache: cache, download: false), path)
    }

    func testUntarDataRejectsABadChecksumAndSaysWhereToPutTheArchive() throws {
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let archive = DatasetArchive(url: URL(string: "https://example.invalid/data/tiny.tgz")!, sha256: String(repeating: "0", count: 64), folder: "tiny")
        XCTAssertThrowsError(try untarData(archive, cache: cache, download: false)) { error in
            XCTAssertTrue("\(error)".contains("place tiny.tgz (from https://example.invalid/data/tiny.tgz) at \(cache.path)/archive/tiny.tgz"), "\(error)")
        }
        try Data(ArchiveWriter.gzip(ArchiveWriter.tar([("tiny/a", [1])]))).write(to: cache.appendingPathComponent("archive/tiny.tgz"))
        XCTAssertThrowsError(try untarData(archive, cache: cache, download: false)) { error in
            XCTAssertTrue("\(error)".contains("SHA-256 is"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("data/tiny").path))
    }

    func testUnsafePathsAreRefused() throws {
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let evil = ArchiveWriter.tar([("tiny/../../escape.txt", [1])])
        XCTAssertThrowsError(try unpack(evil, source: "evil.tar", into: cache, folder: "tiny")) { error in
            XCTAssertTrue("\(error)".contains("unsafe path"), "\(error)")
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

import Tensors

import Foundation
import TestSupport
import XCTest
@testable import Codecs
@testable import DataBlocks

/// `untarData`: verified archives unpacked once into the cache, atomically, refusing unsafe paths.
final class UntarDataTests: XCTestCase {
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
}

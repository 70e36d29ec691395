import Codecs
import Foundation
import FuzzTargets
import TestSupport
import XCTest

/// Every input in the fuzz corpora (the committed seeds, and each crash or hang a fuzzing run
/// found, minimised) runs through its target again: a regression brings the trap back here.
/// Under `.ci/sanitize`'s address sanitizer this is the fuzzers' replay with memory checking.
final class CorpusReplayTests: XCTestCase {
    func testEveryTargetHasACorpusAndReplaysIt() throws {
        // The fuzzers' lower limits, for this test only: the other tests in this process check
        // the defaults.
        let saved = (DataLimits.decompressedBytes, DataLimits.pixels)
        defer { (DataLimits.decompressedBytes, DataLimits.pixels) = saved }
        FuzzTarget.setUp()
        for target in FuzzTarget.allCases {
            let folder = RepositoryFiles.fuzzCorpora.appendingPathComponent(target.rawValue)
            let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            XCTAssertGreaterThanOrEqual(files.count, 3, "\(target): the seed corpus is missing or thin")
            for file in files { target.run([UInt8](try Data(contentsOf: file))) }
        }
    }
}

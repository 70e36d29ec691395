import Foundation
import XCTest

/// A test case with a fresh temporary folder per test (`folder`, not created), removed afterwards.
open class TemporaryFolderTestCase: XCTestCase {
    /// This test's folder, under the system's temporary directory.
    public var folder: URL!

    open override func setUp() {
        super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-\(type(of: self))-\(UUID().uuidString)")
    }

    open override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }
}

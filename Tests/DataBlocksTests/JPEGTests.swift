import Foundation
import Testing
@testable import DataBlocks

/// The JPEG decoder against libjpeg-turbo's output (fixtures made by
/// `Tests/Fixtures/make_jpeg_fixtures.py`: `<name>.jpg` and its reference decode `<name>.png`).
@Suite struct JPEGTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("JPEGFixtures")

    static var fixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".jpg") && !$0.hasPrefix("error_") }.map { String($0.dropLast(4)) }.sorted()
    }

    @Test func fixturesAreThere() {
        #expect(Self.fixtureNames.count >= 17)
    }

    @Test(arguments: fixtureNames)
    func decodesLikeLibjpegTurbo(_ name: String) throws {
        let decoded = try Image.open(Self.folder.appendingPathComponent(name + ".jpg"))
        let reference = try Image.open(Self.folder.appendingPathComponent(name + ".png"))
        #expect(decoded.width == reference.width && decoded.height == reference.height)
        #expect(decoded.channels == reference.channels)
        guard decoded.pixels.count == reference.pixels.count else { return }
        let worst = zip(decoded.pixels, reference.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 2, "\(name): largest difference \(worst)")
    }

    @Test func headerReadsTheSizeWithoutDecoding() throws {
        let bytes = try Image.readFile(Self.folder.appendingPathComponent("orientation_6.jpg"))
        let header = try Image.header(bytes, source: "orientation_6.jpg")
        let image = try Image.decode(bytes, source: "orientation_6.jpg")
        #expect(header.width == image.width && header.height == image.height && header.channels == 3)
        #expect(image.width == 31 && image.height == 20)   // stored 20x31, turned a quarter
    }

    @Test func unsupportedKindsAreNamed() throws {
        #expect(throws: DataError.self) { try Image.open(Self.folder.appendingPathComponent("error_cmyk.jpg")) }
        do {
            _ = try Image.open(Self.folder.appendingPathComponent("error_cmyk.jpg"))
        } catch let error as DataError {
            #expect(error.reason.contains("CMYK"))
        }
        do {
            _ = try Image.open(Self.folder.appendingPathComponent("error_arithmetic.jpg"))
            Issue.record("arithmetic coding decoded")
        } catch let error as DataError {
            #expect(error.reason.contains("arithmetic"))
        }
    }
}

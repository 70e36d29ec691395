import Foundation
import XCTest
@testable import Tensors
import TestSupport

/// FastSwift as other people use it: a package that depends on it by version. SwiftPM refuses
/// `unsafeFlags` in such a dependency, so FastSwift's manifest must leave them out and the
/// kernels take their portable path (saying so once); with the flag and FASTSWIFT_NATIVE=1 the
/// client gets the native kernels. Builds two throwaway client packages (a few minutes);
/// FASTSWIFT_SKIP_CLIENT_TEST=1 skips it in a local edit-test loop, CI always runs it.
final class ClientPackageTests: XCTestCase {

    func testAPackageDependingOnFastSwiftByVersionBuildsAndTrains() throws {
        if ProcessInfo.processInfo.environment["FASTSWIFT_SKIP_CLIENT_TEST"] == "1" { throw XCTSkip("FASTSWIFT_SKIP_CLIENT_TEST=1") }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-client-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)

        // A tagged git repository of FastSwift's committed sources, as a file URL.
        let release = root.appendingPathComponent("fastswift")
        let clone = try runCommand(["git", "clone", "--quiet", "--no-hardlinks", RepositoryFiles.root.path, release.path], in: root)
        XCTAssertEqual(clone.status, 0, clone.output)
        let tag = try runCommand(["git", "-c", "user.name=t", "-c", "user.email=t@t", "tag", "0.1.0"], in: release)
        XCTAssertEqual(tag.status, 0, tag.output)

        func client(_ name: String, withDocSnippets: Bool = false) throws -> URL {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("Sources/Client"), withIntermediateDirectories: true)
            let snippetTarget =
                withDocSnippets
                ? #", .executableTarget(name: "DocSnippets", dependencies: [.product(name: "FastSwift", package: "fastswift")])"# : ""
            try """
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(
                name: "Client",
                dependencies: [.package(url: "\(release.absoluteString)", from: "0.1.0")],
                targets: [.executableTarget(name: "Client", dependencies: [.product(name: "FastSwift", package: "fastswift")])\(snippetTarget)]
            )
            """.write(to: folder.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
            if withDocSnippets {
                try FileManager.default.createDirectory(at: folder.appendingPathComponent("Sources/DocSnippets"), withIntermediateDirectories: true)
                try docSnippetsProgram(articles: release.appendingPathComponent("Sources/FastSwift/FastSwift.docc"))
                    .write(to: folder.appendingPathComponent("Sources/DocSnippets/main.swift"), atomically: true, encoding: .utf8)
            }
            try """
            import FastSwift
            seed(1)
            let x = Tensor.randn([256, 8]), y = Tensor((0..<256).map { Float($0 % 2) })
            let model = Sequential(Linear(8, 32), ReLU(), Linear(32, 2))
            let opt = Adam(model.parameters, lr: 0.01)
            let inputs = x + y.unsqueeze(1)
            var losses: [Float] = []
            for _ in 0..<30 {
                let loss = crossEntropy(model(inputs), y)
                losses.append(loss.item())
                loss.backward(); opt.step(); opt.zeroGrad()
            }
            print("native:", KernelBuild.isNative, "first:", losses[0], "last:", losses[29])
            """.write(to: folder.appendingPathComponent("Sources/Client/main.swift"), atomically: true, encoding: .utf8)
            return folder
        }

        // Without flags: it resolves (no unsafe-flags error), builds, trains, and says once how to go faster.
        // The documentation's code blocks are built with it, so the articles cannot rot.
        let portable = try client("portable", withDocSnippets: true)
        let built = try runCommand(["swift", "build", "-c", "release"], in: portable)
        XCTAssertEqual(built.status, 0, built.output)
        XCTAssertFalse(built.output.contains("DocSnippets/main.swift"), "a documentation snippet has errors or warnings:\n\(built.output)")
        XCTAssertFalse(built.output.contains("unsafeFlags"), built.output)
        let ran = try runCommand([portable.appendingPathComponent(".build/release/Client").path], in: portable)
        XCTAssertEqual(ran.status, 0, ran.output)
        XCTAssertTrue(ran.output.contains("native: false"), ran.output)
        XCTAssertTrue(ran.output.contains("FASTSWIFT_NATIVE=1 swift build -c release -Xswiftc -Xcc -Xswiftc -march=native"), ran.output)
        let quiet = try runCommand([portable.appendingPathComponent(".build/release/Client").path], in: portable, environment: ["FASTSWIFT_QUIET": "1"])
        XCTAssertFalse(quiet.output.contains("FastSwift:"), quiet.output)
        let numbers = ran.output.split(separator: "\n").last!.split(separator: " ")
        let (first, last) = (Float(numbers[3])!, Float(numbers[5])!)
        XCTAssertLessThan(last, first * 0.5, "the client trains: \(ran.output)")

        // With the flag (and FASTSWIFT_NATIVE=1): the native kernels, and no notice. A debug build:
        // the native kernels' release build is the one this package's own release builds make, and
        // a second release build of the whole library would double this test's time.
        #if arch(x86_64)
        let native = try client("native")
        let nativeBuild = try runCommand(
            ["swift", "build", "-Xswiftc", "-Xcc", "-Xswiftc", "-march=native"], in: native,
            environment: ["FASTSWIFT_NATIVE": "1"])
        XCTAssertEqual(nativeBuild.status, 0, nativeBuild.output)
        let nativeRun = try runCommand([native.appendingPathComponent(".build/debug/Client").path], in: native)
        XCTAssertTrue(nativeRun.output.hasPrefix("native: true"), nativeRun.output)
        #endif
    }

    /// Every ```swift block of the DocC articles as the body of its own function in one program:
    /// compiling it checks every snippet against the API (they are not run).
    func docSnippetsProgram(articles: URL) throws -> String {
        var program = "import FastSwift\nimport Foundation\n"
        let files = try FileManager.default.contentsOfDirectory(atPath: articles.path).filter { $0.hasSuffix(".md") }.sorted()
        var count = 0
        for file in files {
            let text = try String(contentsOf: articles.appendingPathComponent(file), encoding: .utf8)
            let parts = text.components(separatedBy: "```swift\n").dropFirst()
            for (i, part) in parts.enumerated() {
                guard let code = part.components(separatedBy: "```").first else { continue }
                program += "\n// \(file), block \(i + 1)\nfunc snippet_\(file.dropLast(3))_\(i)() throws {\n\(code)}\n"
                count += 1
            }
        }
        XCTAssertGreaterThanOrEqual(count, 12, "the articles' code blocks were found")
        return program
    }
}

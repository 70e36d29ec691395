import Foundation
import TestSupport
import XCTest

/// Issue 25's two heap corruptions (`free(): invalid pointer` in `benchmarks conv` at 2c77b89, and
/// a write into freed memory after `ParameterStates` became a struct at 19d6a96) were stale
/// builds, not unsafe code: SwiftPM recompiles a module only when one of its *direct*
/// dependencies' module files changes, and a module that changes only its stored properties
/// can leave the modules above it byte for byte the same. A target that reached it only through
/// another (the `FastSwift` umbrella's `@_exported import`) kept the old field offsets and
/// instance sizes, so it read the wrong fields and allocated objects too small
/// (swiftlang/swift#89636). Both corruptions reproduce from an incremental build and vanish when
/// the stale module alone is recompiled (`Tests/Repro/stale_incremental_build.sh` replays the
/// second); clean builds (the sanitizer passes, CI) never had them. The manifest now makes every
/// target depend on every target it reaches, and this checks that it does.
final class BuildGraphTests: XCTestCase {
    /// The manifest as SwiftPM reads it: each target's dependencies are exactly the targets it
    /// reaches, so no target depends on a layer only through another.
    func testEveryTargetDependsDirectlyOnEveryTargetItReaches() throws {
        // A scratch folder of its own: `swift test` holds the lock on this package's .build.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-manifest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let dump = try runCommand(["swift", "package", "--scratch-path", scratch.path, "dump-package"], in: RepositoryFiles.root)
        XCTAssertEqual(dump.status, 0, dump.output)
        // SwiftPM may print notes before the JSON.
        let json = Data(dump.output[(dump.output.firstIndex(of: "{") ?? dump.output.startIndex)...].utf8)
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        let targets = try XCTUnwrap(manifest["targets"] as? [[String: Any]])
        var direct: [String: Set<String>] = [:]
        for target in targets {
            let name = try XCTUnwrap(target["name"] as? String)
            let dependencies = (target["dependencies"] as? [[String: Any]]) ?? []
            // Each dependency is {"byName": [name, condition]} or {"target": [name, condition]}.
            direct[name] = Set(dependencies.compactMap { ($0.values.first as? [Any])?.first as? String })
        }
        XCTAssertGreaterThan(direct.count, 20)
        for (name, dependencies) in direct {
            var reached = Set<String>(), pending = Array(dependencies)
            while let next = pending.popLast() {
                if reached.insert(next).inserted { pending += direct[next] ?? [] }
            }
            XCTAssertEqual(dependencies, reached, "\(name) reaches \(reached.subtracting(dependencies).sorted()) only through another target")
        }
    }
}

// swift-tools-version:6.0
//
// FastSwift: a fastai-style deep-learning framework in pure Swift.
// No dependencies: the Swift toolchain is all it needs.

import Foundation
import PackageDescription

// MARK: - Vector instructions for the kernels
//
// Without CPU-feature flags Swift emits baseline SSE2 code on x86-64, and `SIMD.addingProduct`
// turns into a library call per lane (about 100x slower than an AVX-512 FMA). So when FastSwift
// is the package being built (our tests, recipes and benchmarks), the `Tensors` target is compiled
// for the machine it is built on (`-march=native`), and optimised even in debug builds so that
// `swift test` never runs the kernels unoptimised.
//
// SwiftPM refuses `unsafeFlags` in a package used as a versioned dependency. When FastSwift is a
// dependency (its checkout lives under `.build/checkouts` or Xcode's `SourcePackages`), the manifest
// leaves them out; the app that depends on it then passes the same flag on its own command line:
//     swift build -c release -Xswiftc -Xcc -Xswiftc -march=native -Xswiftc -Xcc -Xswiftc -fno-math-errno
// Environment overrides: FASTSWIFT_MARCH=<arch> picks another target (e.g. x86-64-v3 for portable
// AVX2 binaries); FASTSWIFT_PORTABLE=1 drops the flags altogether.
let environment = ProcessInfo.processInfo.environment
let packageDirectory = Context.packageDirectory
let isDependency =
    packageDirectory.contains("/.build/checkouts/")
    || packageDirectory.contains("/SourcePackages/checkouts/")
let wantsNativeFlags = !isDependency && environment["FASTSWIFT_PORTABLE"] != "1"

var kernelSettings: [SwiftSetting] = []
// Without the flags, the kernels take their portable path (multiply and add instead of FMA, a
// GEMM micro-kernel for 16 registers) and say once how to get the native one. A dependent
// package that passes -march=native itself sets FASTSWIFT_NATIVE=1 to keep the native path.
if !wantsNativeFlags && environment["FASTSWIFT_NATIVE"] != "1" {
    kernelSettings.append(.define("FASTSWIFT_PORTABLE"))
}
if wantsNativeFlags {
    #if arch(x86_64)
    let march = environment["FASTSWIFT_MARCH"] ?? "native"
    kernelSettings.append(.unsafeFlags(["-Xcc", "-march=\(march)"]))
    // Swift cannot ask at compile time which vector width `-march` gave, and the GEMM's register
    // tile depends on it (12x32 in 32 AVX-512 registers, 6x16 in 16 AVX2 ones: the wrong one
    // spills and runs at a third of the speed). The manifest runs on the machine it builds for.
    if hasAVX512(march: march) { kernelSettings.append(.define("FASTSWIFT_AVX512")) }
    #endif
    kernelSettings.append(.unsafeFlags(["-O"], .when(configuration: .debug)))
    // `Float.squareRoot()` reaches `__builtin_sqrtf` through a C shim that the Clang importer
    // compiles with this module's flags. Glibc's `sqrtf` sets errno on a negative input, so by
    // default each lane becomes a scalar square root with a library-call fallback, and
    // `SIMD16<Float>.squareRoot()` sixteen of them. Without errno the lanes join into one
    // `vsqrtps`; the result is the same correctly rounded IEEE square root.
    kernelSettings.append(.unsafeFlags(["-Xcc", "-fno-math-errno"]))
}

/// Whether `-march=<march>` gives AVX-512: for `native`, whether this machine's CPU has it
/// (Linux's /proc/cpuinfo; elsewhere assumed not, which is correct, only slower, on such a CPU).
func hasAVX512(march: String) -> Bool {
    if march == "native" {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return false }
        return flags.split(separator: " ").contains("avx512f")
    }
    return march == "x86-64-v4" || march.contains("avx512") || ["skylake-avx512", "icelake-server", "sapphirerapids", "znver4", "znver5"].contains(march)
}

let package = Package(
    name: "FastSwift",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "FastSwift", targets: ["FastSwift"]),
        .executable(name: "benchmarks", targets: ["Benchmarks"]),
        .executable(name: "fastswift", targets: ["FastSwiftTool"]),
        .executable(name: "mnist", targets: ["MNIST"]),
        .executable(name: "photos", targets: ["Photos"]),
        .executable(name: "fine-tune", targets: ["FineTune"]),
        .executable(name: "tensor-tour", targets: ["TensorTour"]),
        .executable(name: "mnist-mlp", targets: ["MNISTMLP"]),
        .executable(name: "mnist-basics", targets: ["MNISTBasics"]),
        .executable(name: "mnist-resnet", targets: ["MNISTResNet"]),
        .executable(name: "linear-regression", targets: ["LinearRegression"]),
        .executable(name: "tabular", targets: ["TabularRecipe"]),
        .executable(name: "collab", targets: ["CollabRecipe"]),
        .executable(name: "multilabel", targets: ["MultiLabel"]),
        .executable(name: "keypoints", targets: ["KeyPoints"]),
        .executable(name: "segmentation", targets: ["Segmentation"]),
        .executable(name: "text-classifier", targets: ["TextClassifier"]),
        .executable(name: "text-lm", targets: ["TextLM"]),
        .executable(name: "fuzz", targets: ["Fuzz"]),
    ],
    targets: [
        // Layers, bottom to top; an arrow only points down. Codecs read files; DataBlocks and
        // Training are generic; each application (Vision now) is a target above them.
        .target(name: "Tensors", swiftSettings: kernelSettings),
        .target(name: "Autograd", dependencies: ["Tensors"]),
        .target(name: "Layers", dependencies: ["Tensors", "Autograd"]),
        .target(name: "Optimizers", dependencies: ["Tensors", "Autograd"]),
        .target(name: "Codecs", dependencies: ["Tensors"], swiftSettings: kernelSettings),
        .target(name: "DataBlocks", dependencies: ["Tensors", "Autograd", "Layers", "Codecs"]),
        .target(name: "Training", dependencies: ["Tensors", "Autograd", "Layers", "Optimizers", "DataBlocks"]),
        .target(
            name: "Vision", dependencies: ["Tensors", "Autograd", "Layers", "Codecs", "DataBlocks", "Training"],
            resources: [.copy("Resources/mnist_sample"), .copy("Resources/photos_sample"), .copy("Resources/digit_scenes")],
            swiftSettings: kernelSettings),
        .target(
            name: "Tabular", dependencies: ["Tensors", "Autograd", "Layers", "DataBlocks", "Training"],
            resources: [.copy("Resources/tabular_sample")]),
        .target(
            name: "Collab", dependencies: ["Tensors", "Autograd", "Layers", "DataBlocks", "Training"],
            resources: [.copy("Resources/collab_sample")]),
        .target(
            name: "Text", dependencies: ["Tensors", "Autograd", "Layers", "Optimizers", "Codecs", "DataBlocks", "Training"],
            resources: [.copy("Resources/text_sample")],
            // Optimised in debug too: the tokenizer's per-character loops run in every text test.
            swiftSettings: kernelSettings),
        // Production: the HTTP server and the `fastswift` tool that predict with and serve an export.
        .target(name: "Serving", dependencies: ["Tensors", "Codecs", "Training", "Vision"]),
        .executableTarget(name: "FastSwiftTool", dependencies: ["Serving"]),
        .target(
            name: "FastSwift",
            dependencies: [
                "Tensors", "Autograd", "Layers", "Optimizers", "Codecs", "DataBlocks", "Training", "Vision", "Tabular", "Collab", "Text",
            ]),

        // Tests and the helpers they share. Each test target names every module it imports: a change
        // to one then rebuilds the tests (through an umbrella's re-export alone, SwiftPM missed it).
        .target(name: "TestSupport", dependencies: ["Tensors"], path: "Tests/TestSupport", swiftSettings: kernelSettings),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "Tensors", "TestSupport"]),
        .testTarget(
            name: "LayersTests", dependencies: ["Layers", "Optimizers", "Autograd", "Tensors", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "Layers", "Autograd", "Tensors", "TestSupport"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "Tensors", "TestSupport"], resources: [.copy("ImageFixtures")]),
        .testTarget(name: "DataBlocksTests", dependencies: ["DataBlocks", "Layers", "Codecs", "Tensors", "TestSupport"]),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "DataBlocks", "Optimizers", "Layers", "Autograd", "Tensors", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VisionTests",
            dependencies: ["FastSwift", "Vision", "Training", "DataBlocks", "Codecs", "Optimizers", "Layers", "Autograd", "Tensors", "TestSupport"],
            resources: [.copy("Fixtures")]),

        .testTarget(
            name: "TabularTests",
            dependencies: ["FastSwift", "Tabular", "Training", "DataBlocks", "Optimizers", "Layers", "Autograd", "Tensors", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ServingTests",
            dependencies: ["Serving", "FastSwift", "Vision", "Training", "DataBlocks", "Codecs", "Layers", "Tensors", "TestSupport"]),
        .testTarget(
            name: "TextTests",
            dependencies: ["FastSwift", "Text", "Training", "DataBlocks", "Optimizers", "Layers", "Autograd", "Tensors", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CollabTests",
            dependencies: ["FastSwift", "Collab", "Training", "DataBlocks", "Optimizers", "Layers", "Autograd", "Tensors", "TestSupport"]),

        // The benchmark suite: `swift run -c release benchmarks <suite>`.
        // Fuzzing: the targets (replayed over their corpora by FuzzTests) and libFuzzer's driver.
        .target(name: "FuzzTargets", dependencies: ["FastSwift"], path: "Tests/Fuzz/Targets"),
        .executableTarget(name: "Fuzz", dependencies: ["FuzzTargets"], path: "Tests/Fuzz/Main"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "Codecs", "TestSupport"]),

        .executableTarget(
            name: "Benchmarks", dependencies: ["FastSwift", "Serving"], path: "Benchmarks/Suite",
            swiftSettings: kernelSettings),

        // Worked examples, one executable each.
        .target(name: "RecipeKit", dependencies: ["Tensors", "Codecs", "DataBlocks", "Vision"], path: "Recipes/RecipeKit"),
        .executableTarget(name: "MNIST", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/mnist"),
        .executableTarget(name: "Photos", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/photos"),
        .executableTarget(name: "FineTune", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/fine-tune"),
        .executableTarget(name: "TensorTour", dependencies: ["FastSwift"], path: "Recipes/tensor-tour"),
        .executableTarget(name: "MNISTMLP", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/mnist-mlp"),
        .executableTarget(name: "MNISTResNet", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/mnist-resnet"),
        .executableTarget(name: "MNISTBasics", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/mnist-basics"),
        .executableTarget(name: "LinearRegression", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/linear-regression"),
        .executableTarget(name: "TabularRecipe", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/tabular"),
        .executableTarget(name: "CollabRecipe", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/collab"),
        .executableTarget(name: "MultiLabel", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/multilabel"),
        .executableTarget(name: "KeyPoints", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/keypoints"),
        .executableTarget(name: "Segmentation", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/segmentation"),
        .executableTarget(name: "TextClassifier", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/text-classifier"),
        .executableTarget(name: "TextLM", dependencies: ["FastSwift", "RecipeKit"], path: "Recipes/text-lm"),
    ],
    swiftLanguageModes: [.v6]
)

// MARK: - Every module a target reaches, as a direct dependency
//
// SwiftPM recompiles a module when one of its *direct* dependencies' .swiftmodule changes, and a
// module that changes only its stored properties can leave the modules above it byte for byte
// the same. A target that reached such a module only through another (the `FastSwift` umbrella's
// `@_exported import`, or a layer in between) was then not recompiled and kept the old field
// offsets and instance sizes compiled into it: reads from the wrong field, objects allocated
// too small, heap corruption (issue 25's two corruptions; swiftlang/swift#89636). Clean builds
// were never affected. So every target depends directly on every target below it.
func reachableTargets(from dependencies: [Target.Dependency], in targets: [Target]) -> [Target.Dependency] {
    let byName = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) })
    var names: [String] = []
    var pending = dependencies
    while let dependency = pending.popLast() {
        let name: String
        switch dependency {
        case .targetItem(let target, _), .byNameItem(let target, _): name = target
        default: continue
        }
        guard let target = byName[name], !names.contains(name) else { continue }
        names.append(name)
        pending += target.dependencies
    }
    return names.sorted().map { .target(name: $0) }
}
for target in package.targets {
    target.dependencies = reachableTargets(from: target.dependencies, in: package.targets)
}

import FuzzTargets
import Foundation

#if FUZZING
/// libFuzzer's entry point (built by `Tests/Fuzz/run.sh` with `--sanitize=fuzzer`): the
/// target named by `FASTSWIFT_FUZZ_TARGET` runs over each input libFuzzer makes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { [UInt8](UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzDriver.target.run(bytes)
    return 0
}

/// The target chosen for this process, read once.
enum FuzzDriver {
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FASTSWIFT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set FASTSWIFT_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        FuzzTarget.setUp()
        return target
    }()
}
#else
import FastSwift

/// Without libFuzzer: `fuzz TARGET FILE...` runs a target over files (a crash input, a corpus);
/// `fuzz learner-seeds DIR` writes the `learner` target's seeds (small real exports).
@main
enum FuzzReplay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "learner-seeds", let folder = arguments.dropFirst().first {
            try writeLearnerSeeds(to: URL(fileURLWithPath: folder))
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: fuzz TARGET FILE...   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            print("       fuzz learner-seeds DIR")
            exit(2)
        }
        FuzzTarget.setUp()
        for path in arguments.dropFirst() {
            let outcomes = target.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            print("\(path): " + outcomes.map { $0.prefix { $0 != "\n" } }.joined(separator: " | "))
        }
    }

    /// Exports of an untrained tabular learner (the bundled Titanic table) and collab learner
    /// (the bundled ratings), kept small; and a vision export's metadata with only the two
    /// tensors `loadLearner` checks before it builds the ResNet (a whole one is 45 MB).
    static func writeLearnerSeeds(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let table = try DataFrame.readCSV(BundledData.titanic)
        let tabular = try TabularDataLoaders.fromDF(
            table, yNames: ["survived"], catNames: ["sex", "passengerClass"], contNames: ["age"],
            procs: [.categorify, .fillMissing, .normalize], seed: 42, batchSize: 64, source: "titanic")
        _ = try tabularLearner(tabular, layers: [4]).export(folder.appendingPathComponent("tabular.safetensors"))
        let ratings = try CollabDataLoaders.fromDF(try DataFrame.readCSV(BundledData.ratings), batchSize: 64)
        _ = try collabLearner(ratings, nFactors: 2, yRange: 0...5.5).export(folder.appendingPathComponent("collab.safetensors"))
        let vision: [String: Tensor] = ["0.0.weight": Tensor.zeros([64, 1, 7, 7]), "1.8.weight": Tensor.zeros([2, 512])]
        try SafeTensors.write(
            vision, metadata: ["format": "fastswift-export", "arch": "resnet18", "in_channels": "1", "vocab": #"["3","7"]"#],
            to: folder.appendingPathComponent("vision-stem-and-head.safetensors"))
    }
}
#endif

import FastSwift
import Foundation

/// The parsers FastSwift runs on a user's files, each as a fuzz target: `run` hands it arbitrary
/// bytes, and any outcome but a thrown error or a result (a trap, a memory error under the
/// address sanitizer, a hang, an allocation past libFuzzer's limit) is a finding. Used by the
/// libFuzzer executable (`Tests/Fuzz/run.sh`) and by the corpus replay in `FuzzTests`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `PNG.decode` and `PNG.header` (and `Image.decode`'s dispatch by signature).
    case png
    /// `JPEG.decode` and `JPEG.header`, EXIF orientation included.
    case jpeg
    /// `GZip.decompress` (the inflate inside it).
    case gzip
    /// `Tar.entries`: ustar, GNU base-256 sizes, long names, pax paths.
    case tar
    /// `IDX.read`, `IDX.images` and `IDX.labels` (MNIST's original files).
    case idx
    /// `CSVTable.parse`, `DataFrame.parseCSV` and `PixelCSV.read` over the same text.
    case csv
    /// `SafeTensors.read` (checkpoints, exports, converted PyTorch weights).
    case safetensors
    /// `loadLearner` over a whole export file: the safetensors container, then the metadata each
    /// application rebuilds its model from (architecture, channels, vocab, procs, layers...).
    case learner

    /// Lower limits than the defaults, so that a legitimately large declared size stays far
    /// below libFuzzer's 2 GB memory limit: a finding must be a real one.
    public static func setUp() {
        DataLimits.decompressedBytes = 1 << 25
        DataLimits.pixels = 1 << 22
    }

    /// Runs the target once over `bytes`; errors are the expected outcome of bad input. Returns
    /// what each call ended in (the error's text, or "ok"), for the replay's report.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> [String] {
        var outcomes: [String] = []
        func attempt<T>(_ body: () throws -> T) -> T? {
            do {
                let result = try body()
                outcomes.append("ok")
                return result
            } catch {
                outcomes.append("\(error)")
                return nil
            }
        }
        switch self {
        case .png:
            _ = attempt { try PNG.header(bytes, source: "fuzz.png") }
            _ = attempt { try PNG.decode(bytes, source: "fuzz.png").tensor() }
            _ = attempt { try Image.decode(bytes, source: "fuzz.png") }
        case .jpeg:
            _ = attempt { try JPEG.header(bytes, source: "fuzz.jpg") }
            if let image = attempt({ try JPEG.decode(bytes, source: "fuzz.jpg") }) {
                for orientation in 1...8 { _ = image.oriented(exif: orientation) }
            }
        case .gzip:
            _ = attempt { try GZip.decompress(bytes, source: "fuzz.gz") }
        case .tar:
            _ = attempt { try Tar.entries(bytes, source: "fuzz.tar") }
        case .idx:
            _ = attempt { try IDX.read(bytes, source: "fuzz.idx") }
            _ = attempt { try IDX.images(bytes, source: "fuzz.idx") }
            _ = attempt { try IDX.labels(bytes, source: "fuzz.idx") }
        case .csv:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = attempt { try CSVTable.parse(text, source: "fuzz.csv") }
            _ = attempt { try DataFrame.parseCSV(text, source: "fuzz.csv") }
            _ = attempt { try PixelCSV.read(bytes, source: "fuzz.csv", side: 2) }
        case .safetensors:
            withFile(bytes) { file in _ = attempt { try SafeTensors.read(file) } }
        case .learner:
            withFile(bytes) { file in _ = attempt { try loadLearner(file) } }
        }
        return outcomes
    }

    /// The file readers take a path: the bytes go to a file of this process's own.
    private func withFile(_ bytes: [UInt8], _ body: (URL) -> Void) {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("fastswift-fuzz-\(ProcessInfo.processInfo.processIdentifier).\(rawValue)")
        guard (try? Data(bytes).write(to: file)) != nil else { fatalError("cannot write \(file.path)") }
        defer { try? FileManager.default.removeItem(at: file) }
        body(file)
    }
}

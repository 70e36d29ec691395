import Codecs
import Dispatch
import Foundation
import Tensors
import Training
import Vision

/// The `fastswift` command-line tool: `predict` and `serve` for an exported image classifier.
///
///     swift run -c release fastswift predict export.safetensors photo.jpg more/ --top 3
///     swift run -c release fastswift serve export.safetensors --port 8000
public enum Tool {
    static let usage = """
        usage: fastswift predict EXPORT FILE_OR_FOLDER... [--json] [--top K] [--batch N]
               fastswift serve EXPORT [--port 8000] [--host 127.0.0.1] [--max-body-mb 20] [--no-batching]
          EXPORT   a file written by learn.export() of a visionLearner (the photos and mnist recipes write one with --export)
          predict  prints each image's predicted class and its top probabilities (a table, or JSON lines with --json);
                   folders are searched for PNG and JPEG files; images go through the model in batches of N (64)
          serve    serves a page at http://HOST:PORT/ (drop a photo, see the prediction), POST /predict (an image's bytes
                   → JSON), GET /health and GET /model; localhost only unless --host 0.0.0.0
        """

    /// A usage error, printed with the usage.
    struct UsageError: Error, CustomStringConvertible { let description: String }

    /// Runs the tool with `arguments` (without the program's name), writing results to `output`
    /// and messages to `messages`; returns the exit status. `serve` returns only when `keepServing`
    /// says stop (the real tool: never), and hands its server to `started`.
    public static func run(
        _ arguments: [String], output: (String) -> Void = { print($0) },
        messages: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        started: (ModelServer) -> Void = { _ in }, keepServing: () -> Bool = { true }
    ) -> Int32 {
        do {
            guard let command = arguments.first else { throw UsageError(description: "no command") }
            let (positional, options) = try parse(Array(arguments.dropFirst()))
            switch command {
            case "predict":
                return try predict(positional, options, output: output, messages: messages)
            case "serve":
                try serve(positional, options, messages: messages, started: started, keepServing: keepServing)
                return 0
            case "help", "--help", "-h":
                output(usage)
                return 0
            default:
                throw UsageError(description: "unknown command '\(command)'")
            }
        } catch let error as UsageError {
            messages("error: \(error.description)\n\(usage)")
            return 2
        } catch {
            messages("error: \(error)")
            return 1
        }
    }

    /// Positional arguments, and `--name value` options (`--json` and `--no-batching` take none).
    static func parse(_ arguments: [String]) throws -> ([String], [String: String]) {
        let flags: Set<String> = ["json", "no-batching"], valued: Set<String> = ["top", "batch", "port", "host", "max-body-mb"]
        var positional: [String] = [], options: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else { positional.append(argument); continue }
            let name = String(argument.dropFirst(2))
            if flags.contains(name) {
                options[name] = "1"
            } else if valued.contains(name) {
                guard let value = rest.popFirst() else { throw UsageError(description: "\(argument) needs a value") }
                options[name] = value
            } else {
                throw UsageError(description: "unknown option '\(argument)'")
            }
        }
        return (positional, options)
    }

    static func positiveInt(_ options: [String: String], _ name: String, default value: Int) throws -> Int {
        guard let text = options[name] else { return value }
        guard let n = Int(text), n > 0 else { throw UsageError(description: "--\(name) needs a positive whole number, got '\(text)'") }
        return n
    }

    /// The classifier exported to `path`: a visionLearner's export, its model rebuilt.
    public static func load(_ path: String) throws -> InferenceLearner {
        let file = URL(fileURLWithPath: path)
        return try loadLearner(file) { export in
            guard let model = try visionModel(for: export) else {
                throw LearnerError("\(path) is not a visionLearner export: fastswift predicts and serves image classifiers")
            }
            return model
        }
    }

    static func predict(_ positional: [String], _ options: [String: String], output: (String) -> Void, messages: (String) -> Void) throws -> Int32 {
        guard positional.count >= 2 else { throw UsageError(description: "predict needs an export and at least one image or folder") }
        let learner = try load(positional[0])
        guard let preparation = learner.imagePreparation else {
            throw LearnerError("\(positional[0]) does not say how its images were prepared (exported with a custom item transform?)")
        }
        let top = try positiveInt(options, "top", default: 3), batchSize = try positiveInt(options, "batch", default: 64)
        let json = options["json"] != nil
        // Each file, and its path as the user wrote it (a folder's files under the folder's path).
        var files: [URL] = [], shown: [String] = []
        for path in positional.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw LearnerError("\(path): no such file or folder") }
            if isFolder.boolValue {
                let folder = URL(fileURLWithPath: path, isDirectory: true)
                let prefix = folder.standardizedFileURL.path
                for file in try getImageFiles(folder) {
                    files.append(file)
                    let full = file.standardizedFileURL.path
                    let relative = full.hasPrefix(prefix + "/") ? String(full.dropFirst(prefix.count + 1)) : file.lastPathComponent
                    shown.append(path.hasSuffix("/") ? path + relative : path + "/" + relative)
                }
            } else {
                files.append(URL(fileURLWithPath: path))
                shown.append(path)
            }
        }
        guard !files.isEmpty else { throw LearnerError("no PNG or JPEG images in \(positional.dropFirst().joined(separator: ", "))") }
        if !json { output("file\tlabel\tprobability\ttop \(top)") }
        var failed = 0
        let showsProgress = files.count > batchSize
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let batch = Array(files[start..<min(start + batchSize, files.count)])
            let names = Array(shown[start..<min(start + batchSize, files.count)])
            // Decoding on every core; the model's own kernels use every core too.
            let decoded = decodeAll(batch)
            let good = decoded.indices.filter { decoded[$0].image != nil }
            let predictions = good.isEmpty ? [] : learner.predictions(for: try preparation.inputs(good.map { decoded[$0].image! }))
            var next = 0
            for (i, item) in decoded.enumerated() {
                if let error = item.error {
                    failed += 1
                    output(json ? jsonLine(["file": names[i], "error": error]) : "\(names[i])\terror: \(error)")
                    continue
                }
                let p = predictions[next]
                next += 1
                let best = p.probabilities.prefix(top)
                if json {
                    output(
                        jsonLine([
                            "file": names[i], "label": p.label,
                            "probabilities": best.map { ["label": $0.label, "probability": Double($0.probability)] },
                        ]))
                } else {
                    let list = best.map { "\($0.label) \(String(format: "%.3f", $0.probability))" }.joined(separator: ", ")
                    output("\(names[i])\t\(p.label)\t\(String(format: "%.4f", p.probabilities[0].probability))\t\(list)")
                }
            }
            if showsProgress { messages(progressLine(done: min(start + batchSize, files.count), total: files.count)) }
        }
        if failed > 0 { messages("\(failed) of \(files.count) file(s) could not be read as images") }
        return failed > 0 ? 1 : 0
    }

    /// Each file decoded (or why not), on every core.
    static func decodeAll(_ files: [URL]) -> [(image: Image?, error: String?)] {
        final class Slots: @unchecked Sendable {
            var values: [(image: Image?, error: String?)]
            init(_ n: Int) { values = Array(repeating: (nil, nil), count: n) }
        }
        let slots = Slots(files.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            let result: (Image?, String?)
            do { result = (try Image.open(files[i]), nil) } catch let error as DataError { result = (nil, error.reason) } catch { result = (nil, "\(error)") }
            lock.lock()
            slots.values[i] = result
            lock.unlock()
        }
        return slots.values
    }

    static func jsonLine(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) }
            ?? "{}"
    }

    static func progressLine(done: Int, total: Int) -> String {
        let width = 30, filled = width * done / max(total, 1)
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(done)/\(total) images"
    }

    static func serve(
        _ positional: [String], _ options: [String: String], messages: (String) -> Void, started: (ModelServer) -> Void,
        keepServing: () -> Bool
    ) throws {
        guard positional.count == 1 else { throw UsageError(description: "serve needs one export file") }
        let learner = try load(positional[0])
        var limits = ServerLimits()
        let maxBodyMB = try positiveInt(options, "max-body-mb", default: 20)
        guard maxBodyMB <= 4096 else { throw UsageError(description: "--max-body-mb is at most 4096 (4 GB), got \(maxBodyMB)") }
        limits.maxBodyBytes = maxBodyMB << 20
        let port = options["port"].map { Int($0) ?? -1 } ?? 8000
        guard (0...65535).contains(port) else { throw UsageError(description: "--port needs a port number, got '\(options["port"] ?? "")'") }
        let server = try ModelServer(learner, source: positional[0], batching: options["no-batching"] == nil)
        let actual = try server.start(host: options["host"] ?? "127.0.0.1", port: port, limits: limits)
        messages(
            "Serving \(learner.metadata["arch"] ?? "a model") (\(learner.vocab?.count ?? 0) classes) from \(positional[0]) "
                + "on http://\(options["host"] ?? "127.0.0.1"):\(actual)/ (Ctrl-C stops it)")
        started(server)
        while keepServing() { Thread.sleep(forTimeInterval: 0.05) }
        server.stop()
    }
}

import FastSwift
import Foundation
@testable import Serving
import TestSupport
import XCTest

/// The `fastswift` tool and the model server, against the learner's own predictions, under load
/// and under hostile requests.
final class ServingTests: TemporaryFolderTestCase {
    /// A ResNet-18 trained briefly on the bundled photos (32 px), exported: the learner and the file.
    func photoModel() throws -> (learn: Learner, export: URL, photos: [URL]) {
        seed(21)
        let path = BundledData.photos
        let files = try getImageFiles(path)
        let dls = try ImageDataLoaders.fromNameRe(
            path, files: files, pattern: #"^(.+?)_[^_]*$"#, validPct: 0.25, seed: 42, batchSize: 16, itemTransforms: [Resize(32)],
            batchTransforms: augTransforms())
        let learn = visionLearner(dls, arch: .resnet18, loss: crossEntropy, metrics: [accuracy])
        learn.progress.show = false
        try learn.fitOneCycle(epochs: 1, lrMax: 2e-3)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (learn, try learn.export(folder.appendingPathComponent("photos.safetensors")), Array(files.prefix(12)))
    }

    func testPredictFromTheCommandLineGivesTheLearnersPredictions() throws {
        let (learn, export, photos) = try photoModel()
        let expected = try learn.predict(files: photos)
        let loaded = try Tool.load(export.path)
        XCTAssertEqual(try loaded.predict(files: photos).map(\.label), expected.map(\.label), "the export prepares photos as the learner does")
        for (a, b) in zip(try loaded.predict(files: photos), expected) {
            for (p, q) in zip(a.probabilities, b.probabilities) { XCTAssertEqual(p.probability, q.probability, accuracy: 1e-5) }
        }
        var lines: [String] = [], messages: [String] = []
        let status = Tool.run(
            ["predict", export.path] + photos.map(\.path) + ["--json", "--batch", "5"], output: { lines.append($0) }, messages: { messages.append($0) })
        XCTAssertEqual(status, 0, "\(messages)")
        XCTAssertEqual(lines.count, photos.count)
        for (line, (file, prediction)) in zip(lines, zip(photos, expected)) {
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(json["file"] as? String, file.path)
            XCTAssertEqual(json["label"] as? String, prediction.label)
            let top = try XCTUnwrap(json["probabilities"] as? [[String: Any]])
            XCTAssertEqual(top.count, 3)
            XCTAssertEqual(top[0]["probability"] as? Double ?? 0, Double(prediction.probabilities[0].probability), accuracy: 1e-5)
        }
        XCTAssertTrue(messages.contains { $0.contains("12/12 images") }, "a progress line per batch: \(messages)")
        // A folder, a table, and a file that is not an image (reported, the others predicted).
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("notes.png"))
        lines = []
        XCTAssertEqual(Tool.run(["predict", export.path, folder.path], output: { lines.append($0) }, messages: { _ in }), 1)
        XCTAssertTrue(lines.contains { $0.contains("notes.png\terror: not a PNG or JPEG image") }, "\(lines)")
        XCTAssertEqual(Tool.run(["predict", export.path, "/nowhere"], output: { _ in }, messages: { _ in }), 1)
        XCTAssertEqual(Tool.run(["frobnicate"], output: { _ in }, messages: { _ in }), 2)
        XCTAssertEqual(Tool.run(["predict", "/nowhere.safetensors", photos[0].path], output: { _ in }, messages: { _ in }), 1)
    }

    func testPredictOnTheBundledDigitsGivesTheLearnersPredictions() throws {
        seed(8)
        let dls = try ImageDataLoaders.fromFolder(BundledData.mnist, train: "training", valid: "testing", batchSize: 64)
        let learn = visionLearner(dls, arch: .resnet18, loss: crossEntropy, metrics: [accuracy])
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let export = try learn.export(folder.appendingPathComponent("digits.safetensors"))
        let sevens = BundledData.mnist.appendingPathComponent("testing/7")
        let digits = try getImageFiles(sevens).sorted { $0.path < $1.path }.prefix(10).map { $0 }
        let expected = try learn.predict(files: digits)
        var lines: [String] = []
        XCTAssertEqual(Tool.run(["predict", export.path, sevens.path, "--json"], output: { lines.append($0) }, messages: { _ in }), 0)
        var byFile: [String: [String: Any]] = [:]
        for line in lines {
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            byFile[try XCTUnwrap(json["file"] as? String)] = json
        }
        XCTAssertEqual(byFile.count, try getImageFiles(sevens).count, "one line per digit in the folder")
        for (file, prediction) in zip(digits, expected) {
            let json = try XCTUnwrap(byFile[file.path], file.path)
            let top = try XCTUnwrap(json["probabilities"] as? [[String: Any]])
            XCTAssertEqual(top[0]["probability"] as? Double ?? 0, Double(prediction.probabilities[0].probability), accuracy: 1e-5)
            // An untrained model's top two can be within rounding: compare labels where they are not.
            if prediction.probabilities[0].probability - prediction.probabilities[1].probability > 1e-4 {
                XCTAssertEqual(json["label"] as? String, prediction.label, file.path)
            }
        }
    }

    func testConcurrentRequestsShareForwardPassesAndGetTheirOwnAnswers() throws {
        let (learn, export, photos) = try photoModel()
        let loaded = try Tool.load(export.path)
        let preparation = try XCTUnwrap(loaded.imagePreparation)
        let inputs = try photos.map { try preparation.inputs([Image.decode([UInt8](Data(contentsOf: $0)), source: $0.path)]) }
        let expected = try learn.predict(files: photos)
        for batching in [true, false] {
            let batcher = PredictionBatcher(loaded, batching: batching, window: 0.05)
            let answers = Answers(48)
            // 48 threads of their own, all waiting at once (concurrentPerform would run only as
            // many at a time as there are cores, and on two cores passes could go unshared).
            let group = DispatchGroup()
            for i in 0..<48 {
                group.enter()
                Thread.detachNewThread {
                    answers.set(i, batcher.predict(inputs[i % inputs.count]).label)
                    group.leave()
                }
            }
            group.wait()
            batcher.stop()
            for i in 0..<48 { XCTAssertEqual(answers.values[i], expected[i % inputs.count].label, "request \(i), batching \(batching)") }
            if batching {
                XCTAssertLessThan(batcher.passes, 48, "48 requests at once share passes")
            } else {
                XCTAssertEqual(batcher.passes, 48)
            }
        }
    }

    func testAPassTakesAPowerOfTwoOrPadsWhenThatWastesLittle() {
        let cases: [(queued: Int, maxBatch: Int, take: Int, padded: Int)] = [
            (1, 64, 1, 1), (2, 64, 2, 2), (3, 64, 2, 2), (7, 64, 7, 8), (13, 64, 13, 16), (12, 64, 8, 8),
            (33, 64, 32, 32), (51, 64, 32, 32), (52, 64, 52, 64), (64, 64, 64, 64), (100, 64, 64, 64), (40, 48, 40, 48), (30, 48, 30, 32), (20, 48, 16, 16),
        ]
        for c in cases {
            let (take, padded) = PredictionBatcher.passSize(queued: c.queued, maxBatch: c.maxBatch)
            XCTAssertEqual([take, padded], [c.take, c.padded], "\(c.queued) queued, at most \(c.maxBatch)")
        }
    }

    func testTheServerAnswersLabelSetsAndMasksAsTheirLearners() throws {
        seed(8)
        let path = BundledData.digitScenes
        let table = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
        let scenes = DataBlock(
            blocks: (ImageBlock(), MultiCategoryBlock()), splitter: ColSplitter("is_valid"),
            getX: ColReader("fname", prefix: path.appendingPathComponent("images").path + "/"), getY: ColReader("labels", labelDelimiter: " "))
        let multi = try visionLearner(try scenes.dataLoaders(table.rows(Array(0..<40) + Array(1400..<1410)), batchSize: 8), arch: .resnet18)
        let files = (0..<3).map { path.appendingPathComponent(String(format: "images/valid_%04d.png", $0)) }
        let masks = try SegmentationDataLoaders.fromLabelFunc(
            path, files: Array(try getImageFiles(path.appendingPathComponent("images")).prefix(24)),
            labelFunc: { path.appendingPathComponent("masks").appendingPathComponent($0.lastPathComponent) },
            codes: ["background"] + (0...9).map(String.init), seed: 1, batchSize: 4)
        let unet = try unetLearner(masks, arch: .resnet18)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for learn in [multi, unet] {
            learn.path = folder
            let export = try learn.export(folder.appendingPathComponent("model.safetensors"))
            let expected = try learn.predict(files: files)
            let server = try ModelServer(try Tool.load(export.path), source: export.path)
            let port = try server.start(port: 0, limits: ServerLimits())
            defer { server.stop() }
            for (file, prediction) in zip(files, expected) {
                let json = RawHTTP.call(port: port, "POST", "/predict", body: [UInt8](try Data(contentsOf: file)), contentType: "image/png").json
                XCTAssertEqual(json["labels"] as? [String], prediction.labels)
                XCTAssertEqual(json["label"] as? String, prediction.label)
                if let mask = prediction.mask {
                    let rows = try XCTUnwrap(json["mask"] as? [[Int]])
                    XCTAssertEqual(rows.count, 56)
                    XCTAssertEqual(rows.flatMap { $0 }.map(Float.init), mask.scalars, "the served mask is the learner's")
                }
            }
        }
    }

    func testTheServerAnswersAsTheLearnerUnderLoadAndRefusesHostileRequests() throws {
        let (learn, export, photos) = try photoModel()
        let expected = try learn.predict(files: photos)
        var limits = ServerLimits()
        limits.maxBodyBytes = 1 << 20
        limits.requestTimeout = 1.5
        let server = try ModelServer(try Tool.load(export.path), source: export.path)
        let port = try server.start(port: 0, limits: limits)
        defer { server.stop() }

        XCTAssertEqual(RawHTTP.call(port: port, "GET", "/health").json["status"] as? String, "ok")
        let model = RawHTTP.call(port: port, "GET", "/model").json
        XCTAssertEqual(model["vocab"] as? [String], learn.dls.vocab)
        XCTAssertEqual((model["input"] as? [String: Int])?["height"], 32)
        let page = RawHTTP.send(port: port, chunks: [RawHTTP.request("GET", "/")])
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("<input id=\"file\" type=\"file\"") && !page.body.contains("http://") && !page.body.contains("https://"))

        // 200 requests from 16 threads at once: every answer is the learner's.
        let photoBytes = try photos.map { [UInt8](try Data(contentsOf: $0)) }
        let answers = Answers(200)
        DispatchQueue.concurrentPerform(iterations: 16) { t in
            for r in stride(from: t, to: 200, by: 16) {
                let (status, json) = RawHTTP.call(port: port, "POST", "/predict", body: photoBytes[r % photos.count], contentType: "image/jpeg")
                answers.set(r, status == 200 ? json["label"] as? String : "status \(String(describing: status))")
            }
        }
        for r in 0..<200 { XCTAssertEqual(answers.values[r], expected[r % photos.count].label, "request \(r)") }
        // A multipart upload, as a form sends it.
        let boundary = "----fastswift-test"
        let multipart =
            Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            + photoBytes[0] + Array("\r\n--\(boundary)--\r\n".utf8)
        XCTAssertEqual(
            RawHTTP.call(port: port, "POST", "/predict", body: multipart, contentType: "multipart/form-data; boundary=\(boundary)").json["label"] as? String,
            expected[0].label)

        // Hostile and mistaken requests: each its 4xx and a JSON error, and the server goes on.
        let truncated = Array(photoBytes[0].prefix(photoBytes[0].count / 2))
        let cases: [(String, [[UInt8]], Int?)] = [
            ("oversized", [RawHTTP.request("POST", "/predict", body: [UInt8](repeating: 0xFF, count: (1 << 20) + 1))], 413),
            ("not an image", [RawHTTP.request("POST", "/predict", body: Array("hello".utf8), contentType: "text/plain")], 415),
            ("truncated JPEG", [RawHTTP.request("POST", "/predict", body: truncated, contentType: "image/jpeg")], 422),
            ("empty body", [RawHTTP.request("POST", "/predict")], 400),
            ("malformed request line", [Array("GARBAGE\r\n\r\n".utf8)], 400),
            ("huge headers", [Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n").utf8)], 431),
            ("chunked", [RawHTTP.request("POST", "/predict", extraHeaders: "Transfer-Encoding: chunked\r\n")], 411),
            ("negative length", [Array("POST /predict HTTP/1.1\r\nContent-Length: -5\r\n\r\n".utf8)], 400),
            ("unknown page", [RawHTTP.request("GET", "/etc/passwd")], 404),
            ("wrong method", [RawHTTP.request("DELETE", "/predict")], 405),
            ("a body that never comes", [Array("POST /predict HTTP/1.1\r\nContent-Length: 1000\r\n\r\nabc".utf8)], 408),
        ]
        for (name, chunks, status) in cases {
            let (got, body) = RawHTTP.send(port: port, chunks: chunks)
            XCTAssertEqual(got, status, "\(name): \(body)")
            XCTAssertTrue(body.contains("\"error\""), "\(name) answers a JSON error: \(body)")
            XCTAssertEqual(RawHTTP.call(port: port, "GET", "/health").status, 200, "serving after \(name)")
        }
        // A slow-loris client, a byte at a time: timed out, while others are answered meanwhile.
        let slow = DispatchGroup()
        let slowAnswer = Answers(1)
        DispatchQueue.global().async(group: slow) {
            let status = RawHTTP.send(port: port, chunks: Array("GET /health HTTP/1.1\r\nHost: x\r\n".utf8).map { [$0] }, pause: 0.1).status
            slowAnswer.set(0, status.map(String.init))
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(RawHTTP.call(port: port, "GET", "/health").status, 200, "others are served while a slow client trickles")
        slow.wait()
        XCTAssertEqual(slowAnswer.values[0], "408")
    }
}

/// Answers written by several threads, each its own slot.
final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [String?]
    init(_ n: Int) { values = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ value: String?) {
        lock.lock()
        values[i] = value
        lock.unlock()
    }
}

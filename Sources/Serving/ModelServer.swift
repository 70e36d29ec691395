import Codecs
import Foundation
import Tensors
import Training
import Vision

/// A loaded image classifier served over HTTP (fastai's chapter-2 web app, with no packages):
///
/// - `GET /`: a page where one chooses or drops a photo and sees the prediction and a bar chart;
/// - `POST /predict`: the image's bytes (or a `multipart/form-data` upload) → JSON
///   `{"label", "index", "probabilities": [{"label", "probability"}, ...]}`, most likely first;
/// - `GET /health` → `{"status": "ok"}`; `GET /model` → the model's description.
///
/// Requests that arrive together share forward passes (`PredictionBatcher`). A request that is
/// too large, malformed, not an image, or a damaged image is answered with a 4xx and a JSON
/// error (the decoders' size limits apply); the server goes on serving. No file is ever served.
public final class ModelServer: @unchecked Sendable {
    public let learner: InferenceLearner
    private let preparation: ImagePreparation
    private let batcher: PredictionBatcher
    private let description: [String: Any]
    private var server: HTTPServer?

    /// A server for `learner` (a vision export that records its image preparation).
    ///
    /// - Parameters:
    ///   - learner: the loaded classifier (`loadLearner` of a `visionLearner` export).
    ///   - source: what the model was loaded from, shown by `/model`.
    ///   - batching: share forward passes between concurrent requests.
    public init(_ learner: InferenceLearner, source: String = "", batching: Bool = true) throws {
        guard let preparation = learner.imagePreparation else {
            throw ServerError(description: "\(source): not an image classifier's export that says how to prepare its images (a visionLearner export)")
        }
        self.learner = learner
        self.preparation = preparation
        batcher = PredictionBatcher(learner, batching: batching)
        var description: [String: Any] = [
            "source": source, "vocab": learner.vocab ?? [],
            "input": ["channels": preparation.channels, "height": preparation.height, "width": preparation.width],
            "item_transforms": preparation.itemTransforms.map(\.kind), "batching": batching,
            "parameters": learner.model.parameterCount,
        ]
        for key in ["arch", "application", "in_channels"] { if let value = learner.metadata[key] { description[key] = value } }
        if let mean = preparation.mean, let std = preparation.std { description["normalize"] = ["mean": mean, "std": std] }
        self.description = description
    }

    /// Starts listening on `host:port` (0: a free port; `port` tells which); localhost by default.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 8000, limits: ServerLimits = ServerLimits()) throws -> Int {
        let server = try HTTPServer(host: host, port: port, limits: limits) { [self] request in respond(to: request) }
        self.server = server
        return server.port
    }

    /// The port it listens on.
    public var port: Int? { server?.port }

    /// Stops listening and stops the model thread.
    public func stop() {
        server?.stop()
        batcher.stop()
    }

    /// The response to one request.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        switch (request.method, request.path) {
        case ("GET", "/"), ("GET", "/index.html"):
            return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(ServePage.html.utf8))
        case ("GET", "/health"):
            return .json(200, ["status": "ok"])
        case ("GET", "/model"):
            return .json(200, description)
        case ("POST", "/predict"):
            return predict(request)
        case (_, "/"), (_, "/index.html"), (_, "/health"), (_, "/model"), (_, "/predict"):
            return .error(405, "\(request.method) is not allowed on \(request.path)")
        default:
            return .error(404, "no such page: \(request.path) (there are /, /predict, /health and /model)")
        }
    }

    private func predict(_ request: HTTPRequest) -> HTTPResponse {
        var bytes = request.body
        if let type = request.headers["content-type"], type.lowercased().hasPrefix("multipart/form-data") {
            guard let file = Multipart.firstFile(bytes, contentType: type) else {
                return .error(400, "the multipart body holds no file")
            }
            bytes = file
        }
        guard !bytes.isEmpty else { return .error(400, "send an image's bytes (PNG or JPEG) as the request body") }
        let prediction: ImagePrediction
        do {
            prediction = try batcher.predict { try preparation.inputs([Image.decode(bytes, source: "the uploaded image")]) }
        } catch let error as DataError {
            let unsupported = error.reason.contains("unrecognised signature") || error.reason.contains("not supported")
            return .error(unsupported ? 415 : 422, error.reason)
        } catch {
            return .error(422, "\(error)")
        }
        var answer: [String: Any] = [
            "label": prediction.label, "index": prediction.index, "labels": prediction.labels,
            "probabilities": prediction.probabilities.map { ["label": $0.label, "probability": Double($0.probability)] },
        ]
        // A key-point model's points in pixels, a segmentation model's mask as rows of codes.
        if !prediction.points.isEmpty { answer["points"] = prediction.points.map { [Double($0.x), Double($0.y)] } }
        if let mask = prediction.mask, mask.rank == 2 {
            let codes = mask.scalars.map { Int($0) }, width = mask.shape[1]
            answer["mask"] = (0..<mask.shape[0]).map { Array(codes[($0 * width)..<(($0 + 1) * width)]) }
        }
        return .json(200, answer)
    }
}

/// The first file part of a `multipart/form-data` body.
enum Multipart {
    static func firstFile(_ body: [UInt8], contentType: String) -> [UInt8]? {
        guard let range = contentType.range(of: "boundary=") else { return nil }
        var boundary = String(contentType[range.upperBound...])
        if let semicolon = boundary.firstIndex(of: ";") { boundary = String(boundary[..<semicolon]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !boundary.isEmpty else { return nil }
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [Range<Int>] = []
        var start: Int?
        var i = 0
        while i + delimiter.count <= body.count {
            if body[i] == delimiter[0] && Array(body[i..<(i + delimiter.count)]) == delimiter {
                if let s = start { parts.append(s..<max(s, i - 2)) }  // the part ends before "\r\n--boundary"
                start = i + delimiter.count + 2  // after the boundary's "\r\n"
                i += delimiter.count
            } else {
                i += 1
            }
        }
        for part in parts where part.lowerBound < body.count {
            let bytes = Array(body[part])
            guard let end = Connection.headerEnd(bytes) else { continue }
            let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
            if head.contains("filename=") || head.contains("content-type: image/") { return Array(bytes[(end + 4)...]) }
        }
        return nil
    }
}

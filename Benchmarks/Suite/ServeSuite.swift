import FastSwift
import Foundation
import Serving

#if canImport(Glibc)
import Glibc
#endif

/// `benchmarks serve`: the bundled photo model (ResNet-18 at 64 px, four classes) behind
/// `fastswift serve`, loaded by 1, 8 and 64 clients that each post a bundled photo's bytes over
/// one keep-alive connection, again and again, for a few seconds: requests per second
/// (`images_per_s`) and the p50/p99 latency, with the batching of concurrent requests on and off.
/// First the work a request brings: decoding and preparing one photo, and the model alone on
/// prepared batches of 1, 8 and 64 (the ceiling the server aims for).
///
/// With `--url http://HOST:PORT/PATH` it loads that server instead (the FastAPI + PyTorch baseline
/// in `Benchmarks/compare_fastapi_serve.py`), the same clients and the same photos.
func runServeSuite(_ options: BenchmarkOptions) throws {
    let photos = try getImageFiles(BundledData.photos)
    let bodies = try photos.map { try [UInt8](Data(contentsOf: $0)) }
    var reporter = Reporter(json: options.json, columns: ["images_per_s", "p50_ms", "p99_ms", "clients"])
    let window = max(3, options.minSeconds)
    let threads = options.threads ?? [ProcessInfo.processInfo.activeProcessorCount]
    if let url = options.url {
        let target = try LoadTarget(url)
        for clients in [1, 8, 64] {
            let load = try applyLoad(target, clients: clients, bodies: bodies, seconds: window)
            reporter.report(load.result(case: "url/\(clients) clients", threads: threads[0], clients: clients))
        }
        return
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-serve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    seed(0)
    let dls = try ImageDataLoaders.fromNameRe(
        BundledData.photos, files: photos, pattern: #"^(.+?)_[^_]*$"#, validPct: 0.25, seed: 42, batchSize: 8, itemTransforms: [Resize(64)])
    let export = try visionLearner(dls, arch: .resnet18, loss: crossEntropy).export(folder.appendingPathComponent("photos.safetensors"))
    let learner = try loadLearner(export)
    guard let preparation = learner.imagePreparation else { throw BenchmarkError.usage("the photo export lost its image preparation") }
    let images = try bodies.map { try Image.decode($0, source: "a bundled photo") }
    for threadCount in threads {
        try withThreads(threadCount) {
            let prepare = measure(minSeconds: options.minSeconds) {
                for body in bodies { _ = try? preparation.inputs([Image.decode(body, source: "a bundled photo")]) }
            }
            reporter.report(
                BenchmarkResult(
                    suite: "serve", name: "decode and prepare", threads: threadCount, seconds: prepare,
                    fields: [("images_per_s", Double(bodies.count) / prepare)], batch: 1))
            for batch in [1, 8, 64] {
                let inputs = try preparation.inputs((0..<batch).map { images[$0 % images.count] })
                let seconds = measure(minSeconds: options.minSeconds) { _ = learner.predictions(for: inputs) }
                reporter.report(
                    BenchmarkResult(
                        suite: "serve", name: "model alone", threads: threadCount, seconds: seconds,
                        fields: [("images_per_s", Double(batch) / seconds)], batch: batch))
            }
            for batching in [true, false] {
                let server = try ModelServer(learner, source: export.path, batching: batching)
                let port = try server.start(port: 0)
                defer { server.stop() }
                let target = try LoadTarget("http://127.0.0.1:\(port)/predict")
                for clients in [1, 8, 64] {
                    let load = try applyLoad(target, clients: clients, bodies: bodies, seconds: window)
                    let name = "\(batching ? "batching" : "no batching")/\(clients) clients"
                    reporter.report(load.result(case: name, threads: threadCount, clients: clients))
                }
            }
        }
    }
}

/// Where the load goes: an IPv4 host, a port and a path.
struct LoadTarget {
    var host: String
    var port: Int
    var path: String

    init(_ url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host, let port = components.port
        else { throw BenchmarkError.usage("--url needs http://HOST:PORT/PATH, not '\(url)'") }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
        path = components.path.isEmpty ? "/" : components.path
    }
}

/// What the clients measured: every answered request's latency, in the measuring window.
struct Load {
    var latencies: [Double]
    var seconds: Double

    func result(case name: String, threads: Int, clients: Int) -> BenchmarkResult {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] * 1000 }
        return BenchmarkResult(
            suite: "serve", name: name, threads: threads, seconds: seconds,
            fields: [
                ("images_per_s", Double(sorted.count) / seconds), ("p50_ms", percentile(0.5)), ("p99_ms", percentile(0.99)),
                ("clients", Double(clients)),
            ])
    }
}

/// `clients` threads post the bodies in turn to `target` for a warm-up second and then `seconds`;
/// the requests answered in that window are counted. Any answer but 200 stops the benchmark.
func applyLoad(_ target: LoadTarget, clients: Int, bodies: [[UInt8]], seconds: Double) throws -> Load {
    let start = DispatchTime.now().uptimeNanoseconds
    let measureFrom = start + 1_000_000_000
    let measureTo = measureFrom + UInt64(seconds * 1e9)
    let collected = Collected()
    let group = DispatchGroup()
    for client in 0..<clients {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            var mine: [Double] = []
            do {
                let connection = try LoadConnection(target)
                var k = client
                while true {
                    let sent = DispatchTime.now().uptimeNanoseconds
                    if sent >= measureTo { break }
                    let status = try connection.post(bodies[k % bodies.count])
                    guard status == 200 else { throw BenchmarkError.usage("the server answered \(status) to a bundled photo") }
                    let answered = DispatchTime.now().uptimeNanoseconds
                    if sent >= measureFrom && answered <= measureTo { mine.append(Double(answered - sent) / 1e9) }
                    k += clients
                }
                collected.add(mine)
            } catch {
                collected.fail(error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    if let failure = collected.failure { throw failure }
    return Load(latencies: collected.latencies, seconds: seconds)
}

/// The clients' latencies and first failure, gathered under a lock.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var latencies: [Double] = []
    private(set) var failure: Error?

    func add(_ more: [Double]) {
        lock.lock()
        latencies += more
        lock.unlock()
    }

    func fail(_ error: Error) {
        lock.lock()
        failure = failure ?? error
        lock.unlock()
    }
}

/// One keep-alive HTTP/1.1 connection that posts image bytes and reads each whole answer.
final class LoadConnection {
    private let fd: Int32
    private let head: String
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(_ target: LoadTarget) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(target.port).bigEndian)
        inet_pton(AF_INET, target.host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, connected == 0 else {
            if fd >= 0 { close(fd) }
            throw BenchmarkError.usage("cannot connect to \(target.host):\(target.port): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        head = "POST \(target.path) HTTP/1.1\r\nHost: \(target.host):\(target.port)\r\nContent-Type: application/octet-stream\r\n"
    }

    deinit { close(fd) }

    /// Posts `body`; the answer's status once its whole body has arrived.
    func post(_ body: [UInt8]) throws -> Int {
        let request = Array((head + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchmarkError.usage("the server closed the connection") }
            offset += n
        }
        var end: Int?
        while end == nil {
            try receive()
            end = headerEnd()
        }
        let header = String(decoding: buffer[0..<end!], as: UTF8.self)
        let status = header.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let length =
            header.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        while buffer.count < end! + 4 + length { try receive() }
        buffer.removeFirst(end! + 4 + length)
        return status
    }

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func receive() throws {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw BenchmarkError.usage("the server closed the connection") }
        buffer.append(contentsOf: chunk[0..<n])
    }
}

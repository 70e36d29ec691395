import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HTTP request as the server read it.
public struct HTTPRequest: Sendable {
    public let method: String
    /// The path, without the query.
    public let path: String
    /// Header values by lower-cased name.
    public let headers: [String: String]
    public let body: [UInt8]
}

/// An HTTP response: a status, a content type and a body.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let contentType: String
    public let body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A JSON response of `object` (dictionaries, arrays, strings, numbers, booleans).
    public static func json(_ status: Int, _ object: Any) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return HTTPResponse(status: status, contentType: "application/json", body: [UInt8](data))
    }

    /// A JSON error: `{"error": message, "status": status}`.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, ["error": message, "status": status])
    }

    /// The reason phrase of a status.
    static func reason(_ status: Int) -> String {
        [
            200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
            411: "Length Required", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
            431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
        ][status] ?? "Status"
    }
}

/// What a server accepts before it refuses: sizes read before anything is allocated for them,
/// and deadlines that end slow clients' connections.
public struct ServerLimits: Sendable {
    /// The largest request body (`Content-Length`), in bytes.
    public var maxBodyBytes = 20 << 20
    /// The largest request line and headers together, in bytes.
    public var maxHeaderBytes = 16 << 10
    /// Seconds a client has to send a whole request (headers and body) once it has started.
    public var requestTimeout: Double = 10
    /// Seconds an idle kept-alive connection waits for the next request.
    public var idleTimeout: Double = 5
    /// Connections handled at once; more are answered 503 and closed.
    public var maxConnections = 128

    public init() {}
}

/// Something the server could not do on start.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
}

/// A small HTTP/1.1 server on the C library's sockets: a thread accepts connections, a thread per
/// connection reads requests (keep-alive), each request is answered by `handler`. Request sizes
/// are checked against `limits` before they are read into memory, clients that are too slow are
/// timed out, and every malformed request is answered with a 4xx; none stops the server.
public final class HTTPServer: @unchecked Sendable {
    /// The port the server listens on (the one the system chose when asked for 0).
    public let port: Int
    public let host: String
    private let limits: ServerLimits
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let listener: Int32
    private let lock = NSLock()
    private var active = 0
    private var stopped = false

    /// Binds `host:port` (port 0: any free one) and starts accepting connections. Throws naming
    /// the address when it cannot be bound.
    public init(
        host: String = "127.0.0.1", port: Int, limits: ServerLimits = ServerLimits(), handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws {
        self.host = host
        self.limits = limits
        self.handler = handler
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ServerError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw ServerError(description: "'\(host)' is not an IPv4 address to listen on (use 127.0.0.1, or 0.0.0.0 for every interface)")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ServerError(description: "cannot listen on \(host):\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "fastswift-http-accept"
        thread.start()
    }

    /// Stops accepting connections (those open finish their request).
    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if !wasStopped {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            lock.lock()
            let isStopped = stopped
            lock.unlock()
            if isStopped { if client >= 0 { close(client) }; return }
            guard client >= 0 else {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { usleep(1000); continue }
                return
            }
            var noSignal: Int32 = 1
            #if canImport(Darwin)
            setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
            #endif
            _ = noSignal
            lock.lock()
            let admitted = active < limits.maxConnections
            if admitted { active += 1 }
            lock.unlock()
            guard admitted else {
                Connection(fd: client, limits: limits).send(.error(503, "the server is handling too many connections; try again"))
                close(client)
                continue
            }
            let thread = Thread { [self] in
                Connection(fd: client, limits: limits).serve(handler)
                close(client)
                lock.lock()
                active -= 1
                lock.unlock()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

/// One client's connection: reads requests within the limits and deadlines, writes responses.
struct Connection {
    let fd: Int32
    let limits: ServerLimits

    /// Why a request could not be read.
    enum ReadFailure: Error {
        case closed
        case timedOut
        case response(HTTPResponse)
    }

    /// Requests until the client closes, asks to, times out, or sends something malformed.
    func serve(_ handler: (HTTPRequest) -> HTTPResponse) {
        var buffered: [UInt8] = []
        var first = true
        while true {
            let request: HTTPRequest
            do {
                request = try read(&buffered, idle: first ? limits.requestTimeout : limits.idleTimeout)
            } catch ReadFailure.response(let response) {
                send(response, close: true)
                return
            } catch ReadFailure.timedOut {
                if !first || !buffered.isEmpty { send(.error(408, "the request did not arrive in time"), close: true) }
                return
            } catch {
                return
            }
            first = false
            let keepAlive = request.headers["connection"]?.lowercased() != "close"
            let response = handler(request)
            guard send(response, close: !keepAlive), keepAlive else { return }
        }
    }

    /// The next request: its header section (at most `maxHeaderBytes`) and then its body (at
    /// most `maxBodyBytes`, declared by `Content-Length` and checked before it is read), all
    /// within `requestTimeout` of its first byte; `idle` seconds to wait for that first byte.
    func read(_ buffered: inout [UInt8], idle: Double) throws -> HTTPRequest {
        var deadline = Date().addingTimeInterval(idle)
        var started = !buffered.isEmpty
        if started { deadline = Date().addingTimeInterval(limits.requestTimeout) }
        var headerEnd: Int?
        while true {
            if let end = Self.headerEnd(buffered) { headerEnd = end; break }
            guard buffered.count <= limits.maxHeaderBytes else {
                throw ReadFailure.response(.error(431, "the request's headers are larger than \(limits.maxHeaderBytes) bytes"))
            }
            try receive(into: &buffered, deadline: deadline)
            if !started { started = true; deadline = Date().addingTimeInterval(limits.requestTimeout) }
        }
        let end = headerEnd!
        guard end <= limits.maxHeaderBytes else {
            throw ReadFailure.response(.error(431, "the request's headers are larger than \(limits.maxHeaderBytes) bytes"))
        }
        guard let head = String(validating: buffered[0..<end], as: UTF8.self) else {
            throw ReadFailure.response(.error(400, "the request's headers are not text"))
        }
        var lines = head.components(separatedBy: "\r\n")
        let parts = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            throw ReadFailure.response(.error(400, "malformed request line (expected METHOD /path HTTP/1.1)"))
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw ReadFailure.response(.error(400, "malformed header line")) }
            headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["transfer-encoding"] != nil {
            throw ReadFailure.response(.error(411, "chunked request bodies are not accepted: send Content-Length"))
        }
        var length = 0
        if let text = headers["content-length"] {
            guard let n = Int(text), n >= 0 else { throw ReadFailure.response(.error(400, "Content-Length '\(text)' is not a size")) }
            guard n <= limits.maxBodyBytes else {
                throw ReadFailure.response(.error(413, "the body is \(n) bytes; the limit is \(limits.maxBodyBytes)"))
            }
            length = n
        }
        let bodyStart = end + 4
        while buffered.count < bodyStart + length { try receive(into: &buffered, deadline: deadline) }
        let body = Array(buffered[bodyStart..<(bodyStart + length)])
        buffered.removeFirst(bodyStart + length)
        let target = String(parts[1])
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        return HTTPRequest(method: String(parts[0]), path: path, headers: headers, body: body)
    }

    /// The offset of the blank line ending the header section, if it has arrived.
    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Appends what the client sends next, waiting at most until `deadline`.
    func receive(into buffer: inout [UInt8], deadline: Date) throws {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw ReadFailure.timedOut }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
        guard ready > 0 else {
            if ready < 0 && errno == EINTR { return }
            throw ReadFailure.timedOut
        }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw ReadFailure.closed }
        buffer.append(contentsOf: chunk[0..<n])
    }

    /// Writes `response`; false when the client is gone.
    @discardableResult
    func send(_ response: HTTPResponse, close: Bool = true) -> Bool {
        let head =
            "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\nContent-Type: \(response.contentType)\r\n"
            + "Content-Length: \(response.body.count)\r\nConnection: \(close ? "close" : "keep-alive")\r\n"
            + "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n"
        let bytes = Array(head.utf8) + response.body
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            #else
            let n = bytes.withUnsafeBytes { Darwin.send(fd, $0.baseAddress! + offset, bytes.count - offset, 0) }
            #endif
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}

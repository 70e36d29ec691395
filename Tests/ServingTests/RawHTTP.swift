import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw HTTP client for the tests: sends bytes exactly as given (well-formed or not, all at once
/// or slowly) and reads the response until the server closes the connection.
enum RawHTTP {
    /// The status and body of the response to `request` sent to 127.0.0.1:`port` (nil status
    /// when the server closed without answering). `pause` waits between `chunks`.
    static func send(port: Int, chunks: [[UInt8]], pause: Double = 0, readTimeout: Double = 30) -> (status: Int?, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return (nil, "connect failed") }
        var timeout = timeval(tv_sec: Int(readTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        for (i, chunk) in chunks.enumerated() {
            if i > 0 && pause > 0 { Thread.sleep(forTimeInterval: pause) }
            var offset = 0
            while offset < chunk.count {
                let n = chunk.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, chunk.count - offset, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                offset += n
            }
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else { return (nil, text) }
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }

    /// A request with `Connection: close`.
    static func request(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil, extraHeaders: String = "") -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\(extraHeaders)"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    /// `request` sent and answered.
    static func call(port: Int, _ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil) -> (status: Int?, json: [String: Any]) {
        let (status, text) = send(port: port, chunks: [request(method, path, body: body, contentType: contentType)])
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (status, json)
    }
}

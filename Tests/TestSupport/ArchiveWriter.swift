/// Builds small archives for the tests: ustar members (GNU long names past 100 bytes) and
/// gzip with stored DEFLATE blocks.
public enum ArchiveWriter {
    public static func header(_ name: String, size: Int, type: UInt8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ at: Int) { for (i, b) in text.utf8.enumerated() { h[at + i] = b } }
        put(String(name.prefix(100)), 0)
        put("0000644", 100); put("0000000", 108); put("0000000", 116)
        put(octal(size, digits: 11), 124)
        put("00000000000", 136)
        h[156] = type
        put("ustar", 257); put("00", 263)
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, digits: 6) + "\0 ", 148)
        return h
    }

    public static func octal(_ value: Int, digits: Int) -> String {
        let text = String(value, radix: 8)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    public static func tar(_ members: [(String, [UInt8]?)]) -> [UInt8] {
        var out: [UInt8] = []
        func padded(_ data: [UInt8]) -> [UInt8] { data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512) }
        for (name, data) in members {
            if name.utf8.count > 100 {
                let long = Array(name.utf8) + [0]
                out += header("././@LongLink", size: long.count, type: UInt8(ascii: "L")) + padded(long)
            }
            if let data {
                out += header(name, size: data.count, type: UInt8(ascii: "0")) + padded(data)
            } else {
                out += header(name, size: 0, type: UInt8(ascii: "5"))
            }
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    public static func gzip(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            out += [offset + n == data.count ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        let crc = crc32(data), size = UInt32(truncatingIfNeeded: data.count)
        for v in [crc, size] { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        return out
    }

    /// The CRC-32 of `data` (zlib's), bit by bit: a reference independent of the codecs under test.
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

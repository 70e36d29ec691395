import Tensors

/// Reads big-endian integers and byte runs from a buffer, throwing (never trapping) when the
/// data ends early.
struct ByteReader {
    let bytes: [UInt8]
    let source: String
    private(set) var offset: Int

    init(_ bytes: [UInt8], source: String, offset: Int = 0) {
        self.bytes = bytes
        self.source = source
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func byte(_ what: @autoclosure () -> String) throws -> UInt8 {
        guard offset < bytes.count else { throw DataError(source, "truncated: ends inside \(what())") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32BigEndian(_ what: @autoclosure () -> String) throws -> UInt32 {
        guard remaining >= 4 else { throw DataError(source, "truncated: ends inside \(what())") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else {
            throw DataError(source, "truncated: \(what()) needs \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
        _ = try take(count, what())
    }
}

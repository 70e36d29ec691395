import Tensors

/// gzip files (RFC 1952): one or more members, each a header, DEFLATE data, a CRC-32 and the size.
public enum GZip {
    /// The decompressed contents of a gzip file (all members, concatenated), checked against
    /// each member's CRC-32 and size. `source` names the file in errors; `limit` caps the output
    /// (`DataLimits.decompressedBytes` by default), checked as it is produced.
    public static func decompress(_ bytes: [UInt8], source: String, limit: Int = DataLimits.decompressedBytes) throws -> [UInt8] {
        var result: [UInt8] = []
        var offset = 0
        repeat {
            var reader = ByteReader(bytes, source: source, offset: offset)
            guard try reader.byte("the gzip header") == 0x1F, try reader.byte("the gzip header") == 0x8B else {
                throw DataError(source, "not a gzip file (bad magic bytes)")
            }
            guard try reader.byte("the gzip header") == 8 else { throw DataError(source, "unsupported gzip compression method (only deflate)") }
            let flags = try reader.byte("the gzip header")
            guard flags & 0xE0 == 0 else { throw DataError(source, "corrupt gzip header: reserved flag bits set") }
            try reader.skip(6, "the gzip header")  // mtime, extra flags, OS
            if flags & 0x04 != 0 {  // FEXTRA
                let lo = Int(try reader.byte("the gzip extra field")), hi = Int(try reader.byte("the gzip extra field"))
                try reader.skip(lo | hi << 8, "the gzip extra field")
            }
            if flags & 0x08 != 0 { while try reader.byte("the gzip file name") != 0 {} }  // FNAME
            if flags & 0x10 != 0 { while try reader.byte("the gzip comment") != 0 {} }  // FCOMMENT
            if flags & 0x02 != 0 { try reader.skip(2, "the gzip header CRC") }  // FHCRC
            let (member, end) = try Inflate.decompress(
                bytes, from: reader.offset, source: source,
                sizeHint: bytes.count * 4, limit: limit - result.count)
            var trailer = ByteReader(bytes, source: source, offset: end)
            let crcBytes = try trailer.take(4, "the gzip trailer"), sizeBytes = try trailer.take(4, "the gzip trailer")
            let crc = crcBytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let size = sizeBytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard Checksum.crc32(member) == crc else { throw DataError(source, "corrupt gzip data: CRC-32 mismatch") }
            guard UInt32(truncatingIfNeeded: member.count) == size else { throw DataError(source, "corrupt gzip data: size mismatch") }
            if result.isEmpty { result = member } else { result += member }  // one member (the usual case): no copy
            offset = trailer.offset
            // Some writers pad with zeros after the last member.
        } while offset < bytes.count && bytes[offset...].contains(where: { $0 != 0 })
        return result
    }
}

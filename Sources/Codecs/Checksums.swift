/// CRC-32 (IEEE, as in gzip and PNG) and Adler-32 (as in zlib).
enum Checksum {
    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 of `bytes`, continuing from `crc` (start with 0).
    static func crc32<C: Collection>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var c = ~crc
        crcTable.withUnsafeBufferPointer { table in
            for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }

    /// Adler-32 of `bytes`.
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        bytes.withUnsafeBufferPointer { p in
            while i < p.count {
                // 5552 bytes keep the sums below 2^32 before the modulo.
                let end = min(p.count, i + 5552)
                while i < end { a &+= UInt32(p[i]); b &+= a; i += 1 }
                a %= 65521; b %= 65521
            }
        }
        return b << 16 | a
    }
}

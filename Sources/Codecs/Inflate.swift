import Tensors

// DEFLATE decompression (RFC 1951), the compression inside gzip, zlib and PNG.
//
// A careful decoder: every read is bounds-checked and every malformed input (truncated data,
// invalid codes, distances reaching before the start, output beyond the caller's limit)
// throws a DataError naming the source. Huffman codes are decoded canonically, as zlib's
// reference `puff` does, with a 9-bit lookup table in front for the common short codes.

enum Inflate {
    /// Decompresses the DEFLATE stream starting at `start` in `bytes`. Returns the output and
    /// the offset of the first byte after the stream. Throws when the output would exceed `limit`.
    static func decompress(
        _ bytes: [UInt8], from start: Int = 0, source: String,
        sizeHint: Int = 0, limit: Int = 1 << 31
    ) throws -> (output: [UInt8], end: Int) {
        try bytes.withUnsafeBufferPointer { input in
            var state = State(input: input, position: start, source: source, limit: limit, sizeHint: max(sizeHint, 1024))
            defer { state.output.deallocate() }
            try state.run()
            let output = [UInt8](UnsafeBufferPointer(start: state.output, count: state.count))
            return (output, state.position)
        }
    }

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order,
    /// plus a table that decodes codes of up to `fastBits` bits in one step.
    struct Huffman {
        static let fastBits = 9
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]
        /// For each `fastBits`-bit window (bit-reversed, as read): symbol << 4 | length, or -1.
        var fast = [Int32](repeating: -1, count: 1 << fastBits)

        /// Builds the code from each symbol's code length (0: unused). Throws when the lengths
        /// over-subscribe the code space.
        init(lengths: ArraySlice<Int>, source: String) throws {
            symbols = [Int](repeating: 0, count: lengths.count)
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= counts[len]
                if left < 0 { throw DataError(source, "corrupt deflate data: over-subscribed Huffman code lengths") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            for (symbol, l) in zip(0..., lengths) where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
            // Fill the fast table: walk the canonical codes of length <= fastBits.
            var code = 0, index = 0
            for len in 1...Huffman.fastBits {
                for k in 0..<counts[len] {
                    let value = code + k
                    // Codes are read bit by bit from the most significant; the table is indexed
                    // by bits as they arrive (least significant first), so reverse them.
                    var reversed = 0
                    for b in 0..<len where value & (1 << b) != 0 { reversed |= 1 << (len - 1 - b) }
                    let entry = Int32(symbols[index + k] << 4 | len)
                    var fill = reversed
                    while fill < (1 << Huffman.fastBits) { fast[fill] = entry; fill += 1 << len }
                }
                index += counts[len]
                code = (code + counts[len]) << 1
            }
        }
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let fixed: (Huffman, Huffman) = {
        var lengths = [Int](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        // Fixed tables are valid by construction.
        let literal = try! Huffman(lengths: lengths[...], source: "fixed Huffman table")
        let distance = try! Huffman(lengths: [Int](repeating: 5, count: 30)[...], source: "fixed Huffman table")
        return (literal, distance)
    }()
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private struct State {
        let input: UnsafeBufferPointer<UInt8>
        var position: Int
        let source: String
        let limit: Int
        var bitBuffer: UInt64 = 0
        var bitCount = 0
        var output: UnsafeMutablePointer<UInt8>
        var count = 0
        var capacity: Int

        init(input: UnsafeBufferPointer<UInt8>, position: Int, source: String, limit: Int, sizeHint: Int) {
            self.input = input
            self.position = position
            self.source = source
            self.limit = limit
            capacity = min(sizeHint, max(limit, 1))
            output = .allocate(capacity: capacity)
        }

        func corrupt(_ reason: String) -> DataError { DataError(source, "corrupt deflate data: \(reason)") }

        /// Ensures at least `n` (<= 32) bits are buffered; past the end, pads with zeros so
        /// that a final short code can still be decoded; `checkOverrun` catches real overruns.
        @inline(__always)
        mutating func refill(_ n: Int) {
            while bitCount < n {
                if position < input.count { bitBuffer |= UInt64(input[position]) << UInt64(bitCount) }
                position += 1
                bitCount += 8
            }
        }

        /// Throws when more bits were consumed than the input holds.
        @inline(__always)
        func checkOverrun() throws {
            if position * 8 - bitCount > input.count * 8 { throw DataError(source, "truncated: the deflate stream ends early") }
        }

        @inline(__always)
        mutating func bits(_ n: Int) throws -> Int {
            if n == 0 { return 0 }
            refill(n)
            let value = Int(bitBuffer & ((1 << UInt64(n)) - 1))
            bitBuffer >>= UInt64(n)
            bitCount -= n
            try checkOverrun()
            return value
        }

        @inline(__always)
        mutating func decode(_ h: Huffman) throws -> Int {
            refill(16)
            let entry = h.fast[Int(bitBuffer & ((1 << UInt64(Huffman.fastBits)) - 1))]
            if entry >= 0 {
                let len = Int(entry & 15)
                bitBuffer >>= UInt64(len)
                bitCount -= len
                try checkOverrun()
                return Int(entry >> 4)
            }
            // Longer codes: canonical decoding, one bit at a time.
            var code = 0, first = 0, index = 0
            for len in 1..<16 {
                code |= Int(bitBuffer & 1)
                bitBuffer >>= 1
                bitCount -= 1
                let n = h.counts[len]
                if code - first < n {
                    try checkOverrun()
                    return h.symbols[index + code - first]
                }
                index += n
                first = (first + n) << 1
                code <<= 1
            }
            try checkOverrun()
            throw corrupt("invalid Huffman code")
        }

        mutating func reserve(_ extra: Int) throws {
            let needed = count + extra
            if needed > limit { throw DataError(source, "decompressed data is larger than the \(limit) bytes allowed") }
            if needed <= capacity { return }
            let newCapacity = min(max(needed, capacity * 2), max(limit, needed))
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: output, count: count)
            output.deallocate()
            output = grown
            capacity = newCapacity
        }

        mutating func run() throws {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0: try stored()
                case 1: try codes(Inflate.fixed.0, Inflate.fixed.1)
                case 2:
                    let (literal, distance) = try dynamicTables()
                    try codes(literal, distance)
                default: throw corrupt("invalid block type 3")
                }
            }
            // Give back whole bytes read ahead of the stream's end.
            position -= bitCount / 8
            bitCount = 0
        }

        mutating func stored() throws {
            // Discard the rest of the current byte, then LEN and NLEN.
            bitBuffer = 0
            position -= bitCount / 8
            bitCount = 0
            guard position + 4 <= input.count else { throw DataError(source, "truncated: stored block header") }
            let len = Int(input[position]) | Int(input[position + 1]) << 8
            let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
            guard len == ~nlen & 0xFFFF else { throw corrupt("stored block length does not match its complement") }
            position += 4
            guard position + len <= input.count else { throw DataError(source, "truncated: stored block of \(len) bytes") }
            try reserve(len)
            (output + count).update(from: input.baseAddress! + position, count: len)
            count += len
            position += len
        }

        mutating func dynamicTables() throws -> (Huffman, Huffman) {
            let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
            guard nlen <= 286, ndist <= 30 else { throw corrupt("too many length or distance codes") }
            var lengths = [Int](repeating: 0, count: 19)
            for i in 0..<ncode { lengths[Inflate.codeLengthOrder[i]] = try bits(3) }
            let lencode = try Huffman(lengths: lengths[...], source: source)
            var all = [Int](repeating: 0, count: nlen + ndist)
            var i = 0
            while i < nlen + ndist {
                let symbol = try decode(lencode)
                if symbol < 16 {
                    all[i] = symbol
                    i += 1
                    continue
                }
                var repeatValue = 0, times: Int
                switch symbol {
                case 16:
                    guard i > 0 else { throw corrupt("repeat of a length with no previous length") }
                    repeatValue = all[i - 1]
                    times = 3 + (try bits(2))
                case 17: times = 3 + (try bits(3))
                default: times = 11 + (try bits(7))
                }
                guard i + times <= nlen + ndist else { throw corrupt("too many code lengths") }
                for _ in 0..<times { all[i] = repeatValue; i += 1 }
            }
            guard all[256] != 0 else { throw corrupt("no end-of-block code") }
            return (try Huffman(lengths: all[0..<nlen], source: source), try Huffman(lengths: all[nlen...], source: source))
        }

        mutating func codes(_ literal: Huffman, _ distance: Huffman) throws {
            while true {
                let symbol = try decode(literal)
                if symbol < 256 {
                    if count == capacity { try reserve(1) }
                    output[count] = UInt8(symbol)
                    count += 1
                } else if symbol == 256 {
                    return
                } else {
                    let s = symbol - 257
                    guard s < 29 else { throw corrupt("invalid length code \(symbol)") }
                    let length = Inflate.lengthBase[s] + (try bits(Inflate.lengthExtra[s]))
                    let ds = try decode(distance)
                    guard ds < 30 else { throw corrupt("invalid distance code \(ds)") }
                    let dist = Inflate.distanceBase[ds] + (try bits(Inflate.distanceExtra[ds]))
                    guard dist <= count else { throw corrupt("distance \(dist) reaches before the start of the data") }
                    try reserve(length)
                    var from = count - dist
                    for _ in 0..<length {
                        output[count] = output[from]
                        count += 1
                        from += 1
                    }
                }
            }
        }
    }
}

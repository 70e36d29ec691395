import Tensors

/// tar archives (POSIX ustar, with GNU long names and pax path records), read in memory.
public enum Tar {
    /// One member of an archive.
    public struct Entry: Sendable {
        public enum Kind: Sendable, Equatable { case file, directory, other }
        /// The member's path inside the archive (`mnist_png/training/3/10.png`).
        public let path: String
        public let kind: Kind
        /// The member's contents (files only).
        public let contents: ArraySlice<UInt8>
    }

    /// The members of a tar archive. Throws, naming `source`, on a truncated archive, a header
    /// whose checksum does not match, or a size that runs past the end.
    public static func entries(_ bytes: [UInt8], source: String) throws -> [Entry] {
        var result: [Entry] = []
        var offset = 0
        var longName: String?
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { return result }  // end-of-archive marker
            let stored = try octal(header, 148, 8, "checksum", source: source, at: offset)
            var sum = 0
            for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
            guard sum == stored else {
                throw DataError(source, "corrupt tar archive: header checksum mismatch at byte \(offset)")
            }
            let size = try octal(header, 124, 12, "size", source: source, at: offset)
            let type = header[header.startIndex + 156]
            let dataStart = offset + 512
            guard size >= 0, size <= bytes.count - dataStart else {
                throw DataError(source, "truncated tar archive: a member of \(size) bytes at byte \(offset) runs past the end")
            }
            let contents = bytes[dataStart..<(dataStart + size)]
            offset = dataStart + (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next member's long name
                longName = text(contents)
                continue
            case UInt8(ascii: "x"):  // pax: records "len key=value\n"
                if let path = paxPath(contents) { longName = path }
                continue
            case UInt8(ascii: "g"):
                continue
            default:
                break
            }
            let name = text(header[(header.startIndex)..<(header.startIndex + 100)])
            let prefix = text(header[(header.startIndex + 345)..<(header.startIndex + 500)])
            let path = longName ?? (prefix.isEmpty ? name : prefix + "/" + name)
            longName = nil
            let kind: Entry.Kind = type == UInt8(ascii: "0") || type == 0 ? .file : type == UInt8(ascii: "5") ? .directory : .other
            result.append(Entry(path: path, kind: kind, contents: kind == .file ? contents : []))
        }
        if offset < bytes.count || result.isEmpty {
            throw DataError(source, "truncated tar archive: ends inside a header at byte \(offset)")
        }
        return result
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func octal(_ header: ArraySlice<UInt8>, _ at: Int, _ length: Int, _ field: String, source: String, at offset: Int) throws -> Int {
        let raw = header[(header.startIndex + at)..<(header.startIndex + at + length)]
        if let first = raw.first, first & 0x80 != 0 {
            // GNU base-256 for large values (a set top bit of the first byte marks it).
            guard first & 0x40 == 0 else {
                throw DataError(source, "corrupt tar archive: the \(field) field at byte \(offset) is a negative base-256 number")
            }
            var value = Int(first & 0x3F)
            for b in raw.dropFirst() {
                guard value < Int.max >> 8 else {
                    throw DataError(source, "corrupt tar archive: the \(field) field at byte \(offset) is too large")
                }
                value = value << 8 | Int(b)
            }
            return value
        }
        let digits = raw.prefix { $0 != 0 && $0 != 32 }.drop { $0 == 32 }
        var value = 0
        for d in digits {
            guard d >= 48 && d <= 55, value < Int.max >> 3 else {
                throw DataError(source, "corrupt tar archive: the \(field) field at byte \(offset) is not an octal number")
            }
            value = value * 8 + Int(d - 48)
        }
        return value
    }

    private static func paxPath(_ records: ArraySlice<UInt8>) -> String? {
        for line in String(decoding: records, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
        }
        return nil
    }
}

import Foundation

/// A whole file's bytes; a `DataError` naming the file when it cannot be read (missing, a
/// folder, no permission). Every reader of user files goes through it. (It reads through a
/// `FileHandle`: Foundation's `Data(contentsOf:)` leaks a 4 KiB buffer for every empty file it
/// reads, which the fuzzers' leak checker reports.)
public func readFileBytes(_ file: URL) throws -> [UInt8] {
    do {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        return [UInt8](try handle.readToEnd() ?? Data())
    } catch {
        throw DataError(file.path, "cannot read the file: \(error.localizedDescription)")
    }
}

import Foundation

/// Writes `bytes` to `file` through a temporary file in the same folder and an atomic
/// rename: a reader sees the old file or the new one, never a part. Refuses to replace a
/// folder (or anything that is not a regular file) and leaves it untouched.
public func writeFileReplacing(_ file: URL, with bytes: Data) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder) {
        let type = try? FileManager.default.attributesOfItem(atPath: file.path)[.type] as? FileAttributeType
        guard !isFolder.boolValue, type == .typeRegular || type == .typeSymbolicLink else {
            throw DataError(
                file.path,
                isFolder.boolValue
                    ? "is a folder; refusing to replace it with a file (choose a file name inside it)"
                    : "is not a regular file; refusing to replace it")
        }
    }
    let folder = file.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let temporary = folder.appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
    try bytes.write(to: temporary)
    guard rename(temporary.path, file.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw DataError(file.path, "could not be written: \(reason)")
    }
}

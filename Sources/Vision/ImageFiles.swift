import Codecs
import DataBlocks
import Foundation
import Tensors

/// Image formats `getImageFiles` recognises but cannot decode; they are counted and reported.
let otherImageExtensions: Set<String> = ["bmp", "gif", "tif", "tiff", "webp", "heic"]

/// Every PNG and JPEG file below `folder`, recursively, in a stable order (fastai's
/// `get_image_files`). Images in other formats are left out and reported on standard error
/// with their count.
public func getImageFiles(_ folder: URL) throws -> [URL] {
    let (files, skipped) = try listImageFiles(folder)
    if !skipped.isEmpty {
        // Nothing is dropped silently: say what was left out and why.
        let list = skipped.sorted { $0.key < $1.key }.map { "\($0.value) .\($0.key)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data("getImageFiles: skipped \(list) file(s) under \(folder.path): FastSwift decodes PNG and JPEG images\n".utf8))
    }
    return files
}

/// The PNG and JPEG files below `folder` (sorted), and how many images of other formats were left out, by extension.
func listImageFiles(_ folder: URL) throws -> (files: [URL], skipped: [String: Int]) {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw DataError(folder.path, "no such folder")
    }
    guard let walker = fm.enumerator(at: folder, includingPropertiesForKeys: nil) else { throw DataError(folder.path, "cannot list the folder") }
    var files: [URL] = []
    var skipped: [String: Int] = [:]
    for case let url as URL in walker {
        let ext = url.pathExtension.lowercased()
        if Image.decodableExtensions.contains(ext) { files.append(url) } else if otherImageExtensions.contains(ext) { skipped[ext, default: 0] += 1 }
    }
    // Each path's key is made once: comparing keys is cheap, a locale-aware compare per pair
    // took seconds for MNIST's 70,000 files.
    let keyed = files.map { (key: naturalSortKey($0.path), url: $0) }
    let sorted = keyed.sorted { a, b in
        a.key == b.key ? a.url.path < b.url.path : a.key.lexicographicallyPrecedes(b.key)
    }
    return (sorted.map(\.url), skipped)
}

/// A key whose plain (lexicographic) order is the natural order of file paths, as Finder's and
/// `localizedStandardCompare`'s: case-insensitive, and runs of digits by their value
/// (`2.png` before `10.png`); other characters by code point.
func naturalSortKey(_ path: String) -> [UInt32] {
    var key: [UInt32] = []
    key.reserveCapacity(path.unicodeScalars.count + 8)
    var digits: [UInt32] = []
    func flushDigits() {
        guard !digits.isEmpty else { return }
        // A number sorts where a digit would, then by its length without leading zeros, then
        // digit by digit.
        let significant = digits.drop { $0 == 0x30 }
        key.append(0x30)
        key.append(UInt32(significant.count))
        key.append(contentsOf: significant)
        digits.removeAll(keepingCapacity: true)
    }
    for scalar in path.unicodeScalars {
        if scalar.value >= 0x30 && scalar.value <= 0x39 {
            digits.append(scalar.value)
        } else {
            flushDigits()
            key.append(scalar.properties.lowercaseMapping.unicodeScalars.first?.value ?? scalar.value)
        }
    }
    flushDigits()
    return key
}

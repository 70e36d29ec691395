import DataBlocks
import Foundation
import Tensors
import TestSupport
import XCTest

@testable import Text

final class TextDataTests: XCTestCase {
    func testVocabFollowsFastaisMakeVocab() {
        let docs = [["xxbos", "b", "a", "b", "c"], ["xxbos", "a", "b", "d", "c"], ["xxbos", "c", "a", "e"]]
        // a, b, c three times each (tied: first seen b, a, c), d and e once.
        let vocab = TextVocab(counting: docs, minFreq: 2)
        XCTAssertEqual(Array(vocab.tokens.prefix(12)), SpecialToken.all + ["b", "a", "c"])
        XCTAssertEqual(vocab.count, 16, "12 tokens, then xxfake up to the next multiple of 8")
        XCTAssertEqual(vocab.index(of: "d"), 0, "below minFreq: xxunk")
        XCTAssertEqual(vocab.index(of: "xxbos"), 2)
        XCTAssertEqual(vocab.index(of: "xxfake"), 0)
        XCTAssertEqual(vocab.decode(vocab.encode(["a", "zzz"])), ["a", "xxunk"])
        // fastai adds 8 fillers to a vocabulary already a multiple of 8 (its `8 - len % 8`).
        XCTAssertEqual(
            TextVocab(counting: [
                ["w1", "w1", "w1", "w2", "w2", "w2", "w3", "w3", "w3", "w4", "w4", "w4", "w5", "w5", "w5", "w6", "w6", "w6", "w7", "w7", "w7"]
            ]).count, 24)
        XCTAssertEqual(TextVocab(counting: docs, minFreq: 1, maxVocab: 10).tokens.prefix(10).count, 10)
        XCTAssertEqual(TextVocab(counting: docs, minFreq: 1, maxVocab: 10).count, 16)
    }

    func testLanguageModelStreamsAndShiftedTargetsByHand() throws {
        // 9 tokens in 2 streams: (9 - 1) / 2 = 4 tokens each, read 3 at a time: batches of 3, then 1.
        let docs = [[2, 10, 11], [2, 12], [2, 13, 14, 15]]
        let dl = try TextDataLoaders.languageModelLoader(docs, batchSize: 2, seqLen: 3, shuffle: false)
        let batches = Array(dl)
        XCTAssertEqual(batches.count, 2)
        XCTAssertEqual(batches[0].0.toArray2D(), [[2, 10, 11], [12, 2, 13]])
        XCTAssertEqual(batches[0].1.toArray2D(), [[10, 11, 2], [2, 13, 14]])
        XCTAssertEqual(batches[1].0.toArray2D(), [[2], [14]])
        XCTAssertEqual(batches[1].1.toArray2D(), [[12], [15]])
        // Shuffled, each pass is a permutation of whole documents, the same for the same seed.
        seed(5)
        let shuffled = try TextDataLoaders.languageModelLoader(docs, batchSize: 1, seqLen: 8, shuffle: true)
        for _ in 0..<3 {
            let pass = Array(shuffled)
            let stream = pass[0].0.scalars.map(Int.init) + [Int(pass[0].1.scalars.last!)]
            XCTAssertEqual(stream.count, 9)
            XCTAssertTrue(Set(docs.permutations().map { $0.flatMap { $0 } }).contains(stream), "\(stream)")
        }
    }

    func testClassifierBatchesAreSortedAndPaddedByChunks() throws {
        let docs = [[2, 5], [2, 5, 6, 7, 8, 9, 10], [2, 6, 7], [2]]
        let dl = try TextDataLoaders.classifierLoader(docs, [0, 1, 0, 1], batchSize: 2, seqLen: 3, shuffle: false)
        let batches = Array(dl)
        // Longest first; 7 tokens: a 3-token document gets one whole chunk of padding in front
        // and one pad at the end, so its text starts on a chunk boundary.
        XCTAssertEqual(batches[0].0.toArray2D(), [[2, 5, 6, 7, 8, 9, 10], [1, 1, 1, 2, 6, 7, 1]])
        XCTAssertEqual(batches[0].1.scalars, [1, 0])
        XCTAssertEqual(batches[1].0.toArray2D(), [[2, 5], [2, 1]])
        XCTAssertEqual(batches[1].1.scalars, [0, 1])
        // Training: every item once per pass, batches of similar lengths, the longest first.
        seed(3)
        let lengths = (0..<40).map { 1 + ($0 * 7) % 23 }
        let train = try TextDataLoaders.classifierLoader(
            lengths.map { Array(repeating: 5, count: $0) }, Array(repeating: 0, count: 40), batchSize: 4, seqLen: 4, shuffle: true)
        let pass = Array(train)
        XCTAssertEqual(pass.count, 10)
        XCTAssertEqual(pass[0].0.shape[1], lengths.max()!)
    }

    func testBadInputGivesErrorsNamingTheRowOrFile() throws {
        func frame(_ texts: [String?], _ labels: [String?]) throws -> DataFrame {
            try DataFrame([("text", .strings(texts)), ("label", .strings(labels))])
        }
        XCTAssertThrowsError(try TextDataLoaders.fromDF(frame(["a b", nil, "c d", "e f"], ["x", "y", "x", "y"]), validPct: 0.5, seed: 1)) {
            XCTAssertTrue("\($0)".contains("row 1") && "\($0)".contains("'text'"), "\($0)")
        }
        XCTAssertThrowsError(try TextDataLoaders.fromDF(frame(["a b", "b", "c d", "e f"], ["x", nil, "x", "y"]), validPct: 0.5, seed: 1)) {
            XCTAssertTrue("\($0)".contains("row 1") && "\($0)".contains("'label'"), "\($0)")
        }
        XCTAssertThrowsError(try TextDataLoaders.fromDF(frame(["a", "b", "c", "d"], ["x", "x", "x", "x"]), validPct: 0.5, seed: 1)) {
            XCTAssertTrue("\($0)".contains("single class"), "\($0)")
        }
        XCTAssertThrowsError(try TextDataLoaders.fromDF(frame(["a", "b"], ["x", "y"]), textCol: "review", validPct: 0.5, seed: 1)) {
            XCTAssertTrue("\($0)".contains("review"), "\($0)")
        }
        // Empty documents are kept, as fastai keeps them: `xxbos` alone.
        var withEmpty = try frame(["", "a b", "", "a"], ["x", "y", "y", "x"])
        try withEmpty.setColumn("is_valid", .booleans([false, false, true, true]))
        let dls = try TextDataLoaders.fromDF(withEmpty, validCol: "is_valid", batchSize: 2)
        XCTAssertTrue((dls.trainDocuments + dls.validDocuments).contains([2]))

        // A folder: a file that is not UTF-8 is named.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-text-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        for (folder, label, name, bytes) in [
            ("train", "pos", "a.txt", Array("good".utf8)), ("train", "neg", "b.txt", Array("bad".utf8)),
            ("valid", "pos", "c.txt", [0x67, 0xFF, 0xFE, 0x6F]), ("valid", "neg", "d.txt", Array("meh".utf8)),
        ] {
            let dir = root.appendingPathComponent(folder).appendingPathComponent(label)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(bytes).write(to: dir.appendingPathComponent(name))
        }
        XCTAssertThrowsError(try TextDataLoaders.fromFolder(root, batchSize: 2)) {
            XCTAssertTrue("\($0)".contains("c.txt") && "\($0)".contains("UTF-8"), "\($0)")
        }
        try Data("fine".utf8).write(to: root.appendingPathComponent("valid/pos/c.txt"))
        let folder = try TextDataLoaders.fromFolder(root, batchSize: 2, minFreq: 1)
        XCTAssertEqual(folder.vocab, ["neg", "pos"])
        XCTAssertEqual(folder.trainDocuments.count, 2)
        // A dropMult that pushes a dropout to 1 or beyond is an error, not a trap.
        XCTAssertThrowsError(try textClassifierLearner(folder, dropMult: 3)) { XCTAssertTrue("\($0)".contains("dropMult"), "\($0)") }
        // Too little text for the language model's streams is an error, not a trap.
        XCTAssertThrowsError(try TextDataLoaders.fromFolder(root, isLM: true, batchSize: 64))
    }

    func testTokenizedCorpusIsCachedAndReadBack() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-tokcache-\(UUID())")
        defer { try? FileManager.default.removeItem(at: cache) }
        let tok = Tokenizer()
        let texts = ["Hello there!", "", "Line\nbreak"]
        let first = tok.tokenize(texts, cache: cache)
        XCTAssertEqual(first, tok.tokenize(texts))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path).count, 1)
        XCTAssertEqual(tok.tokenize(texts, cache: cache), first, "read back from the cache")
        // A text holding the cache's separator is tokenized, never cached.
        XCTAssertEqual(tok.tokenize(texts + ["A\u{1}B"], cache: cache), first + [tok("A\u{1}B")])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path).count, 1)
    }
}

extension Array {
    /// Every ordering of the elements.
    func permutations() -> [[Element]] {
        guard count > 1 else { return [self] }
        return indices.flatMap { i -> [[Element]] in
            var rest = self
            let head = rest.remove(at: i)
            return rest.permutations().map { [head] + $0 }
        }
    }
}

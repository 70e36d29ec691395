import Foundation
import TestSupport
import Text
import XCTest

final class TokenizerTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            let text: String
            let tokens: [String]
        }
        let cases: [Case]
    }

    /// fastai's tokenizer (its rules, spaCy's English tokenizer) on awkward strings:
    /// Tests/Fixtures/make_tokenizer_reference.py.
    func testTokenizerMatchesFastaiOnAwkwardStrings() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/tokenizer_reference", withExtension: "json"))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        XCTAssertEqual(reference.cases.count, 30)
        let tok = Tokenizer()
        for c in reference.cases {
            XCTAssertEqual(tok(c.text), c.tokens, "\(c.text.debugDescription)")
        }
        // The same texts at once, on every core, in order.
        XCTAssertEqual(tok.tokenize(reference.cases.map(\.text)), reference.cases.map(\.tokens))
    }

    /// With FASTSWIFT_TOKENIZER_CORPUS pointing at fastai's tokens of a corpus
    /// (`make_tokenizer_reference.py --corpus CSV --out JSON`): the share of documents tokenized
    /// exactly as fastai does, printed, and at least 99%. Skipped without it.
    func testAgreementWithFastaiOnACorpus() throws {
        guard let path = ProcessInfo.processInfo.environment["FASTSWIFT_TOKENIZER_CORPUS"] else {
            throw XCTSkip("set FASTSWIFT_TOKENIZER_CORPUS to a JSON file of fastai's tokens")
        }
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let ours = Tokenizer().tokenize(reference.cases.map(\.text))
        var same = 0, tokens = 0, sameTokens = 0, shown = 0
        for (case_, mine) in zip(reference.cases, ours) {
            if case_.tokens == mine {
                same += 1
            } else if shown < 10 {
                shown += 1
                print(
                    "fastai, then FastSwift, from the first difference:", case_.tokens.drop { mine.contains($0) }.prefix(5),
                    mine.drop { case_.tokens.contains($0) }.prefix(5))
            }
            tokens += case_.tokens.count
            sameTokens += zip(case_.tokens, mine).prefix { $0 == $1 }.count
        }
        print("identical documents: \(same) of \(reference.cases.count); tokens before the first difference: \(sameTokens) of \(tokens)")
        XCTAssertGreaterThanOrEqual(Double(same), 0.99 * Double(reference.cases.count))
    }
}

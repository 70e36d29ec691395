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
}

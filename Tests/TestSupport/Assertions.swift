import Tensors
import XCTest

/// Asserts that two tensors have the same shape and that every pair of elements satisfies
/// `|a - b| <= atol + rtol * |b|` (NaNs must match NaNs, infinities must match exactly).
public func assertClose(
    _ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.shape == expected.shape else {
        XCTFail("shape \(actual.shape) != expected \(expected.shape) \(message())", file: file, line: line)
        return
    }
    assertClose(actual.scalars, expected.scalars, rtol: rtol, atol: atol, message(), file: file, line: line)
}

/// Asserts that two arrays have the same length and that every pair of elements is close
/// (see `assertClose(_:_:rtol:atol:)` for tensors).
public func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    var failures = 0
    for i in 0..<actual.count {
        let a = actual[i], b = expected[i]
        let ok: Bool
        if b.isNaN { ok = a.isNaN } else if b.isInfinite { ok = a == b } else { ok = abs(a - b) <= atol + rtol * abs(b) }
        if !ok {
            failures += 1
            if failures <= 5 {
                XCTFail("element \(i): \(a) != expected \(b) (rtol \(rtol), atol \(atol)) \(message())", file: file, line: line)
            }
        }
    }
    if failures > 5 { XCTFail("\(failures) elements differ in all \(message())", file: file, line: line) }
}

/// Asserts two scalars are close.
public func assertClose(
    _ actual: Float, _ expected: Float, rtol: Float = 1e-5, atol: Float = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertClose([actual], [expected], rtol: rtol, atol: atol, message(), file: file, line: line)
}

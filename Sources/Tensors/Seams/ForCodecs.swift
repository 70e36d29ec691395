// What Tensors offers the Codecs layer (and its own file readers): the size check every
// declared shape goes through before anything is allocated.
//
// Clients: Codecs (IDX), Tensors' own safetensors reader.

/// The product of `sizes`, or nil when a size is negative or the product overflows at any step.
/// An overflow is remembered to the end: `[2^40, 2^40, 0]` is nil, not 0, so a hostile header
/// cannot pass a size check by ending in a zero.
package func checkedProduct(_ sizes: some Sequence<Int>, startingAt first: Int = 1) -> Int? {
    var product = first
    for size in sizes {
        guard size >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: size)
        guard !overflow else { return nil }
        product = next
    }
    return product
}

import TestSupport
import XCTest
@testable import Tensors

/// Every op against PyTorch's output on the same inputs (see TorchReference.swift, generated
/// by Tests/Fixtures/make_torch_reference.py).
final class TorchParityTests: XCTestCase {
    /// Decodes "shape|values" (shape comma-separated, values space-separated).
    static func decode(_ text: String) -> Tensor {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        let shape = parts[0].split(separator: ",").map { Int($0)! }
        let values: [Float] = parts[1].split(separator: " ").map { token in
            switch token {
            case "nan": return .nan
            case "inf": return .infinity
            case "-inf": return -.infinity
            default: return Float(token)!
            }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// The FastSwift twin of each case in the generator script.
    let ops: [String: ([Tensor]) -> Tensor] = [
        "add": { $0[0] + $0[1] }, "add_col": { $0[0] + $0[1] }, "add_3d": { $0[0] + $0[1] },
        "sub": { $0[0] - $0[1] }, "rsub_scalar": { 1 - $0[0] }, "mul": { $0[0] * $0[1] },
        "div": { $0[0] / $0[1] }, "rdiv_scalar": { 2 / $0[0] }, "neg": { -$0[0] },
        "pow_scalar": { $0[0].pow(1.7) }, "pow_int": { $0[0].pow(3) }, "pow_tensor": { $0[0].pow($0[1]) },
        "exp": { $0[0].exp() }, "exp_special": { $0[0].exp() }, "log": { $0[0].log() }, "log_special": { $0[0].log() },
        "sqrt": { $0[0].sqrt() }, "abs": { $0[0].abs() }, "sigmoid": { $0[0].sigmoid() },
        "sigmoid_special": { $0[0].sigmoid() }, "relu": { $0[0].relu() }, "tanh": { $0[0].tanh() },
        "tanh_special": { $0[0].tanh() }, "clamp": { $0[0].clamp(min: -1, max: 0.5) },
        "maximum": { Tensor.maximum($0[0], $0[1]) }, "minimum": { Tensor.minimum($0[0], $0[1]) },
        "eq": { $0[0] .== $0[1] }, "lt": { $0[0] .< $0[1] }, "ge_scalar": { $0[0] .>= 0.5 },
        "where": { Tensor.where($0[0], $0[1], $0[2]) },
        "mnist_loss": { Tensor.where($0[1] .== 1, 1 - $0[0], $0[0]).mean() },
        "sum": { $0[0].sum() }, "sum_dim1": { $0[0].sum(dim: 1) }, "sum_keepdim": { $0[0].sum(dim: -1, keepDim: true) },
        "mean_dim0": { $0[0].mean(dim: 0) }, "max_dim2": { $0[0].max(dim: 2) }, "min_all": { $0[0].min() },
        "argmax_dim1": { $0[0].argmax(dim: 1) }, "argmin_all": { $0[0].argmin() },
        "var_all": { $0[0].variance() }, "var_dim1": { $0[0].variance(dim: 1) },
        "std_dim2_keep": { $0[0].std(dim: 2, keepDim: true) }, "std_biased": { $0[0].std(unbiased: false) },
        "matmul_mm": { $0[0] • $0[1] }, "matmul_mv": { $0[0] • $0[1] }, "matmul_vm": { $0[0] • $0[1] },
        "matmul_vv": { $0[0] • $0[1] }, "matmul_batched": { $0[0] • $0[1] }, "matmul_batch_vec": { $0[0] • $0[1] },
        "reshape": { $0[0].reshape([-1, 6]) }, "flatten1": { $0[0].flatten(startDim: 1) },
        "squeeze": { $0[0].squeeze() }, "unsqueeze": { $0[0].unsqueeze(1) }, "transpose": { $0[0].transpose(0, 2) },
        "T": { $0[0].T }, "permute": { $0[0].permute([1, 2, 0]) }, "expand": { $0[0].expand(to: [2, 3, 4]) },
        "cat0": { Tensor.cat([$0[0], $0[1]]) }, "cat1": { Tensor.cat([$0[0], $0[1]], dim: 1) },
        "stack1": { Tensor.stack([$0[0], $0[1]], dim: 1) }, "split_second": { $0[0].split(3)[1] },
        "chunk_last": { $0[0].chunk(3, dim: 1).last! }, "index_int": { $0[0][1] }, "index_neg": { $0[0][-1, 2] },
        "index_range": { $0[0][0..<1] }, "index_column": { $0[0][..., 2] }, "index_columns": { $0[0][..., 1..<3] },
        "index_list": { $0[0][[2, 0, 2]] }, "index_mask": { $0[0][mask: $0[0] .> 0] },
        "arange": { _ in Tensor.arange(0, 2, step: 0.3) }, "linspace": { _ in Tensor.linspace(-1, 2, count: 7) },
        "eye": { _ in Tensor.eye(3, 4) },
    ]

    func testEveryOpMatchesPyTorch() {
        XCTAssertEqual(torchCases.count, 72)
        for c in torchCases {
            guard let op = ops[c.op] else { XCTFail("no Swift twin for \(c.op)"); continue }
            let result = op(c.inputs.map(Self.decode))
            assertClose(result, Self.decode(c.output), rtol: 1e-5, atol: 1e-6, c.op)
        }
    }

    func testPrintingMatchesPyTorch() {
        for p in torchPrints {
            XCTAssertEqual(Self.decode(p.tensor).description, p.printed, p.name)
        }
    }
}

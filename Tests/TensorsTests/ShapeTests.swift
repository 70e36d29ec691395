import TestSupport
import XCTest
@testable import Tensors

final class ShapeTests: XCTestCase {
    let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    func testReshapeInfersOneSize() {
        XCTAssertEqual(x.reshape([-1, 4]).shape, [6, 4])
        XCTAssertEqual(x.reshape([4, -1]).shape, [4, 6])
        XCTAssertEqual(x.view([24]).scalars, x.scalars)
        XCTAssertEqual(Tensor.zeros([0, 5]).reshape([-1, 5]).shape, [0, 5])
        XCTAssertEqual(x.flatten().shape, [24])
        XCTAssertEqual(x.flatten(startDim: 1).shape, [2, 12])
        XCTAssertEqual(x.flatten(startDim: 0, endDim: 1).shape, [6, 4])
    }

    func testReshapeIsCopyOnWrite() {
        let a = Tensor([1, 2, 3, 4])
        var b = a.reshape([2, 2])
        b[0, 0] = Tensor(9)
        XCTAssertEqual(a.scalars, [1, 2, 3, 4], "mutating a reshaped copy leaves the original alone")
        XCTAssertEqual(b.scalars, [9, 2, 3, 4])
    }

    func testSqueezeUnsqueeze() {
        let t = Tensor.zeros([1, 3, 1, 2])
        XCTAssertEqual(t.squeeze().shape, [3, 2])
        XCTAssertEqual(t.squeeze(0).shape, [3, 1, 2])
        XCTAssertEqual(t.squeeze(1).shape, [1, 3, 1, 2], "squeezing an axis that is not 1 changes nothing")
        XCTAssertEqual(t.squeeze(-2).shape, [1, 3, 2])
        XCTAssertEqual(Tensor([1, 2, 3]).unsqueeze(1).shape, [3, 1])
        XCTAssertEqual(Tensor([1, 2, 3]).unsqueeze(0).shape, [1, 3])
        XCTAssertEqual(Tensor([1, 2, 3]).unsqueeze(-1).shape, [3, 1])
    }

    func testTransposeAndPermute() {
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.T, Tensor([[1, 4], [2, 5], [3, 6]]))
        XCTAssertEqual(m.transpose(0, 1), m.T)
        let p = x.permute([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        for i in 0..<4 {
            for j in 0..<2 {
                for k in 0..<3 {
                    XCTAssertEqual(p[i, j, k].item(), x[j, k, i].item())
                }
            }
        }
        XCTAssertEqual(x.transpose().shape, [2, 4, 3])
        XCTAssertEqual(x.transpose().transpose(), x)
        // A large transpose goes through the tiled path.
        let big = Tensor.randn([300, 517], generator: RandomGenerator(seed: 5))
        let bt = big.T
        XCTAssertEqual(bt.shape, [517, 300])
        for (i, j) in [(0, 0), (299, 516), (17, 400), (150, 33)] { XCTAssertEqual(bt[j, i].item(), big[i, j].item()) }
        XCTAssertEqual(bt.T, big)
    }

    func testExpand() {
        let col = Tensor([[1], [2]])
        XCTAssertEqual(col.expand(to: [2, 3]), Tensor([[1, 1, 1], [2, 2, 2]]))
        XCTAssertEqual(Tensor([1, 2]).expand(to: [2, 2]), Tensor([[1, 2], [1, 2]]))
        XCTAssertEqual(Tensor(5).broadcast(to: [2]).scalars, [5, 5])
    }

    func testCatAndStack() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[5, 6]])
        XCTAssertEqual(Tensor.cat([a, b]), Tensor([[1, 2], [3, 4], [5, 6]]))
        XCTAssertEqual(Tensor.cat([a, a], dim: 1), Tensor([[1, 2, 1, 2], [3, 4, 3, 4]]))
        XCTAssertEqual(Tensor.cat([a, a], dim: -1), Tensor.cat([a, a], dim: 1))
        let s = Tensor.stack([Tensor([1, 2]), Tensor([3, 4]), Tensor([5, 6])])
        XCTAssertEqual(s, Tensor([[1, 2], [3, 4], [5, 6]]))
        XCTAssertEqual(Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], dim: 1), Tensor([[1, 3], [2, 4]]))
    }

    func testSplitAndChunk() {
        let t = Tensor.arange(7)
        XCTAssertEqual(t.split(3).map(\.scalars), [[0, 1, 2], [3, 4, 5], [6]])
        XCTAssertEqual(t.split(sizes: [2, 5]).map(\.scalars), [[0, 1], [2, 3, 4, 5, 6]])
        XCTAssertEqual(t.chunk(3).map(\.scalars), [[0, 1, 2], [3, 4, 5], [6]])
        XCTAssertEqual(Tensor.arange(6).chunk(4).map(\.count), [2, 2, 2], "torch.chunk gives fewer pieces here too")
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.chunk(3, dim: 1).map(\.scalars), [[1, 4], [2, 5], [3, 6]])
        XCTAssertEqual(Tensor.cat(m.split(1, dim: 1), dim: 1), m)
    }
}

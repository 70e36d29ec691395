import TestSupport
import XCTest
@testable import Autograd
@testable import Tensors

final class BackwardTests: XCTestCase {
    func testChapterFourByHand() {
        // fastai's f(x) = x² at 3: the gradient is 6.
        var xt = Tensor(3)
        xt.requiresGrad = true
        let yt = xt.square()
        XCTAssertEqual(yt.description, "tensor(9., grad_fn=<PowBackward0>)")
        yt.backward()
        XCTAssertEqual(xt.grad, Tensor(6))
        // Vector version: sum of squares of [3, 4, 10] gives [6, 8, 20].
        var v = Tensor([3, 4, 10])
        v.requiresGrad = true
        XCTAssertEqual(v.description, "tensor([ 3.,  4., 10.], requires_grad=True)")
        v.square().sum().backward()
        XCTAssertEqual(v.grad, Tensor([6, 8, 20]))
    }

    func testGradientsAccumulateUntilCleared() {
        var w = Tensor([1, 2])
        w.requiresGrad = true
        (w * 3).sum().backward()
        (w * 3).sum().backward()
        XCTAssertEqual(w.grad, Tensor([6, 6]))
        w.zeroGrad()
        XCTAssertNil(w.grad)
        (w * w).sum().backward()
        XCTAssertEqual(w.grad, Tensor([2, 4]))
        w.grad = nil
        XCTAssertNil(w.grad)
    }

    func testExplicitUpstreamGradient() {
        var x = Tensor([1, 2, 3])
        x.requiresGrad = true
        (x * 2).backward(Tensor([1, 0.5, 0]))
        XCTAssertEqual(x.grad, Tensor([2, 1, 0]))
    }

    func testSharedSubexpressionsAddUp() {
        var x = Tensor(2)
        x.requiresGrad = true
        let y = x * x  // used twice below
        let z = y * 3 + y.exp()
        z.backward()
        // dz/dx = (3 + e^(x²)) * 2x
        assertClose(x.grad!.item(), (3 + Float(Foundation.exp(4.0))) * 4, rtol: 1e-5)
    }

    func testNoGradRecordsNothingAndAllowsParameterUpdates() {
        var w = Tensor([1, 2])
        w.requiresGrad = true
        let inside = noGrad { w * 2 }
        XCTAssertFalse(inside.requiresGrad)
        let alias = w  // the same parameter, as in PyTorch
        (w * w).sum().backward()
        noGrad { w -= w.grad! * 0.5 }
        XCTAssertEqual(w, Tensor([0, 0]))
        XCTAssertEqual(alias, Tensor([0, 0]), "every copy of a parameter sees its update")
        XCTAssertTrue(w.requiresGrad)
    }

    func testDetachAndClone() {
        var w = Tensor([1, 2])
        w.requiresGrad = true
        let d = (w * 2).detach()
        XCTAssertFalse(d.requiresGrad)
        var c = w.clone()
        c += Tensor(1)
        XCTAssertEqual(w, Tensor([1, 2]), "a clone has its own storage")
    }

    func testGraphIsReleasedAndMemoryStaysFlat() {
        // Thousands of steps of a small model: the graph of each step must be freed after
        // backward, so the number of live graph nodes returns to zero.
        var w = Tensor.randn([20, 10], generator: RandomGenerator(seed: 1))
        w.requiresGrad = true
        let x = Tensor.randn([32, 20], generator: RandomGenerator(seed: 2))
        weak var lastNode: Node?
        for _ in 0..<3000 {
            let loss = (x • w).relu().square().mean()
            lastNode = loss.gradientRecord?.node
            loss.backward()
            noGrad { w -= w.grad! * 0.01 }
            w.zeroGrad()
        }
        XCTAssertNil(lastNode, "the last step's graph is gone once its loss is")
        let loss = (x • w).sigmoid().sum()
        let node = loss.gradientRecord!.node!
        loss.backward()
        XCTAssertTrue(node.inputs.isEmpty, "backward releases the inputs each node held")
        XCTAssertNil(node.output)
    }
}

import Foundation

final class RequiringGradTests: XCTestCase {
    func testChainableRequiresGrad() {
        // The seeds' init_params: (torch.randn(size) * std).requires_grad_()
        let w = (Tensor.randn([3, 1], generator: RandomGenerator(seed: 1)) * 0.5).requiringGrad()
        XCTAssertTrue(w.requiresGrad)
        (w * 2).sum().backward()
        XCTAssertEqual(w.grad, Tensor.full([3, 1], 2))
    }
}

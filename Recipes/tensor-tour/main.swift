// tensor-tour: FastSwift's tensors in the order fastai's chapter 4 meets them, ending with
// "SGD from scratch" on y = x•a + noise, its gradient written out by hand.
//
//     swift run -c release tensor-tour
import FastSwift

seed(42)

print("— Tensors, shapes and broadcasting")
let x = Tensor([[1, 2, 3], [4, 5, 6]])
print(x)
print("shape:", x.shape, " rank:", x.rank)
print("x * 2 + 1 =", x * 2 + 1)
print("x + [10, 20, 30] =", x + Tensor([10, 20, 30]))
print("column 0:", x[..., 0], " row 1:", x[1], " rows [1, 0]:", x[[1, 0]])
print("sum over rows:", x.sum(dim: 0), " mean:", x.mean(), " argmax per row:", x.argmax(dim: 1))
print("x • xᵀ =", x • x.T)

print("\n— A large product on both cores")
let a = Tensor.randn([1024, 1024]), b = Tensor.randn([1024, 1024])
print("(a • b).shape =", (a • b).shape, " threads:", Threads.count)

print("\n— SGD from scratch: y = x•a + noise, a = (3, 10)")
let n = 100
let inputs = Tensor.cat([Tensor.uniform([n, 1], -1, 1), Tensor.ones([n, 1])], dim: 1)
let trueA = Tensor([3, 10])
let targets = inputs • trueA + Tensor.randn([n]) * 0.6
var weights = Tensor([-1, 1])
let lr: Float = 0.1
for step in 0...100 {
    let predictions = inputs • weights
    let error = predictions - targets
    let loss = error.square().mean()
    // d(mean((x•a - y)²))/da = 2/n · xᵀ(x•a - y): the transposed product runs without a copy.
    let gradient = inputs.matmul(error.unsqueeze(1), transposeSelf: true, transposeOther: false).squeeze(1) * (2 / Float(n))
    weights -= gradient * lr
    if step % 20 == 0 {
        print("step \(step): loss \(loss.item()), a = \(weights)")
    }
}
print("recovered a =", weights, "(true: \(trueA))")

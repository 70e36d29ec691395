// FastSwift: one import for the whole framework.
//
//     import FastSwift
//
// re-exports every layer, bottom to top: Tensors → Autograd → Layers → Optimizers →
// DataBlocks → Training.
@_exported import Tensors
@_exported import Autograd

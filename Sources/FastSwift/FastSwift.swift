// FastSwift: one import for the whole framework.
//
//     import FastSwift
//
// re-exports every layer, bottom to top: Tensors → Autograd → Layers → Optimizers →
// DataBlocks → Training.
@_exported import Tensors
@_exported import Autograd
@_exported import Layers
@_exported import Optimizers
@_exported import DataBlocks
@_exported import Training

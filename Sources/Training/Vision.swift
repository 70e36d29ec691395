import DataBlocks
import Layers
import Tensors

/// The architectures `visionLearner` can build.
public enum Architecture: Sendable {
    case resnet18, resnet34

    func body(inChannels: Int) -> (Sequential, features: Int) {
        switch self {
        case .resnet18: return (Layers.resnet18(inChannels: inChannels).body, 512)
        case .resnet34: return (Layers.resnet34(inChannels: inChannels).body, 512)
        }
    }

    /// The full model `visionLearner` builds: the body, then fastai's head.
    func model(inChannels: Int, classes: Int) -> Sequential {
        let (body, features) = self.body(inChannels: inChannels)
        let head = createHead(features, classes)
        for (_, parameter) in head.namedParameters where parameter.rank == 2 {
            var w = parameter
            noGrad { w.normalInPlace(mean: 0, std: (2 / Float(parameter.shape[1])).squareRoot()) }
        }
        return Sequential(body, head)
    }

    var name: String { self == .resnet18 ? "resnet18" : "resnet34" }

    init?(name: String) {
        switch name {
        case "resnet18": self = .resnet18
        case "resnet34": self = .resnet34
        default: return nil
        }
    }
}

/// fastai's `vision_learner` for image classification: the architecture's body, sized to the
/// images' channels and cut before its pooling, then `createHead` to the vocab's size, the head
/// initialised Kaiming-normal. There are no pretrained weights (no network here): the body
/// starts from its own initialisation and the whole model trains.
public func visionLearner(_ dls: DataLoaders<(Tensor, Tensor)>, arch: Architecture, loss: @escaping LossFunction,
                          opt: OptimizerFactory = .adam, metrics: [Metric] = [], cbs: [Callback] = []) -> Learner {
    let channels = dls.oneBatch().0.shape[1]
    let classes = dls.vocab?.count ?? 0
    precondition(classes > 0, "visionLearner: the data has no vocab; build it from categories (ImageDataLoaders.fromFolder)")
    let learn = Learner(dls: dls, model: arch.model(inChannels: channels, classes: classes), loss: loss, opt: opt,
                        metrics: metrics, cbs: cbs)
    learn.architecture = (arch, channels)
    return learn
}

import Autograd

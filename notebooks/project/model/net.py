"""The network, the loss and the metrics. The CNN is the book's (helpers.CNN), not a
copy."""

from __future__ import annotations

import torch
from torch import nn

import helpers


def mlp(n_hidden: int = 128, n_classes: int = 10) -> nn.Sequential:
    """A small multilayer perceptron for 28x28 images: a baseline for the CNN."""
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, n_hidden), nn.ReLU(),
                         nn.Linear(n_hidden, n_classes))


MODELS = {"cnn": helpers.CNN, "mlp": mlp}


def build_model(params) -> nn.Module:
    """The network that ``params.model`` names; an unknown name lists the valid ones."""
    try:
        model = MODELS[params.model]()
    except KeyError:
        raise ValueError(f"unknown model {params.model!r} in params.json; "
                         f"choose one of {sorted(MODELS)}") from None
    # convolution weights channels-last: the same maths, faster on the CPU (see the CNN
    # chapter); a no-op for the MLP, whose weights are matrices
    return model.to(memory_format=torch.channels_last)


loss_fn = nn.CrossEntropyLoss()


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of the batch whose largest logit is the true class."""
    return (logits.argmax(dim=1) == y).float().mean().item()


# Each metric is computed per batch and averaged, weighted by batch size.
metrics = {"accuracy": accuracy}

"""Evaluating a classifier: logits in batches (``predict``) and the fraction right (``accuracy``)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits of ``model`` on ``X`` in eval mode, in batches, on the CPU; the mode is restored after.

    Evaluation must not switch a model out of training for good: dropout and batch norm would
    stay in eval mode for the rest of a training loop that called this between epochs.
    """
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        outs = [model(X[i:i + batch_size].to(device)).cpu() for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of ``X`` that ``model`` classifies as ``y`` (evaluated in eval mode, mode restored)."""
    return (predict(model, X, batch_size).argmax(dim=1) == y.cpu()).float().mean().item()

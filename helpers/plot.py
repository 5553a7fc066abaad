"""Small plotting helpers that several chapters share."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure


def show_images(X: torch.Tensor, labels: Sequence[str], ncols: int = 10,
                size: float = 1.2) -> Figure:
    """A grid of grey images (N, 1, H, W) with a caption under each."""
    n = len(X)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.3)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, label in zip(axes.flat, X, labels):
        ax.imshow(img.squeeze().cpu(), cmap="gray_r")
        ax.set_title(label, fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(curves: dict[str, Sequence[float]], xlabel: str = "step",
                ylabel: str = "loss", logy: bool = False, ax: plt.Axes | None = None) -> plt.Axes:
    """Several named curves on one axes, e.g. training losses side by side."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in curves.items():
        ax.plot(values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def moving_average(values: Sequence[float] | np.ndarray | torch.Tensor, window: int) -> np.ndarray:
    """The mean of each run of ``window`` consecutive values (``len(values) - window + 1`` of
    them, NumPy's ``mode="valid"``): a noisy training curve, smoothed for a plot."""
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    values = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if values.ndim != 1 or len(values) < window:
        raise ValueError(f"need a 1-D sequence of at least {window} values, got shape {values.shape}")
    return np.convolve(values.astype(float), np.ones(window) / window, mode="valid")

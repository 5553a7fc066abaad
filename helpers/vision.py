"""Pictures for the image chapters: t-SNE maps of hidden layers, class maps, confusion matrices."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

ArrayLike = np.ndarray | torch.Tensor


def _to_numpy(a: ArrayLike) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def tsne_maps(snapshots: Sequence[ArrayLike], pca_dims: int = 50, max_iter: int = 250,
              perplexity: float = 30.0, seed: int = 0) -> list[np.ndarray]:
    """2-D t-SNE maps of a sequence of feature snapshots (N, D), each started from the previous map.

    Each snapshot is first reduced to ``pca_dims`` dimensions with PCA (cheap, and it removes
    noise t-SNE would otherwise fit). The first map starts from PCA; every later one starts
    from the map before it, without early exaggeration, so that consecutive maps line up and an
    animation of them moves smoothly instead of jumping to a new rotation every frame. sklearn
    spends its first 250 steps in early exaggeration, so the first map gets 250 more steps.
    """
    if len(snapshots) == 0:
        raise ValueError("tsne_maps() needs at least one snapshot of features; got none.")
    arrays = [_to_numpy(s).reshape(len(s), -1).astype(np.float32) for s in snapshots]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        sizes = [len(a) for a in arrays]
        raise ValueError(f"every snapshot must hold the same points; got sizes {sizes}.")
    if n <= perplexity + 1:
        raise ValueError(
            f"t-SNE needs more points than perplexity + 1 ({perplexity + 1:g}); got {n}.")
    maps: list[np.ndarray] = []
    for feats in arrays:
        dims = min(pca_dims, n, feats.shape[1])
        if feats.shape[1] > dims:
            feats = PCA(dims, random_state=seed).fit_transform(feats)
        first = not maps
        tsne = TSNE(2, perplexity=perplexity, max_iter=max_iter + (250 if first else 0),
                    init="pca" if first else maps[-1], early_exaggeration=12.0 if first else 1.0,
                    learning_rate="auto", method="exact" if n <= 1000 else "barnes_hut",
                    random_state=seed)
        maps.append(tsne.fit_transform(feats).astype(np.float32))
    return maps


def plot_class_map(ax: plt.Axes, points: ArrayLike, labels: ArrayLike, classes: Sequence[str],
                   title: str = "", size: float = 8) -> plt.Axes:
    """Scatter 2-D points coloured by class, with each class's name written at its median."""
    points, labels = _to_numpy(points), _to_numpy(labels).astype(int)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(
            f"need points of shape (N, 2) and N labels; got {points.shape} and {labels.shape}.")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(f"labels must lie in 0..{len(classes) - 1} to name them from `classes`.")
    cmap = plt.get_cmap("tab10")
    ax.clear()
    ax.scatter(points[:, 0], points[:, 1], c=[cmap(k % 10) for k in labels], s=size, alpha=0.8)
    for k, name in enumerate(classes):
        members = points[labels == k]
        if len(members):
            x, y = np.median(members, axis=0)
            ax.text(x, y, name, fontsize=8, weight="bold", ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": cmap(k % 10),
                          "alpha": 0.8})
    ax.set(xticks=[], yticks=[], title=title)
    return ax


def _label_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _to_numpy(y_true).astype(int), _to_numpy(y_pred).astype(int)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}.")
    return y_true, y_pred


def plot_confusion(y_true: ArrayLike, y_pred: ArrayLike, classes: Sequence[str],
                   ax: plt.Axes | None = None) -> plt.Axes:
    """The confusion matrix (rows: true class, columns: predicted class) with class names."""
    y_true, y_pred = _label_pair(y_true, y_pred)
    cm = confusion_matrix(y_true, y_pred, labels=range(len(classes)))
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6))
    ConfusionMatrixDisplay(cm, display_labels=list(classes)).plot(
        ax=ax, cmap="Blues", colorbar=False, xticks_rotation=45, values_format="d")
    return ax


def most_confused(y_true: ArrayLike, y_pred: ArrayLike, classes: Sequence[str],
                  top: int = 3) -> list[tuple[str, str, int]]:
    """The ``top`` most frequent mistakes as (true class, predicted class, count), largest first."""
    y_true, y_pred = _label_pair(y_true, y_pred)
    cm = confusion_matrix(y_true, y_pred, labels=range(len(classes)))
    np.fill_diagonal(cm, 0)
    order = np.argsort(cm, axis=None)[::-1][:top]
    pairs = [np.unravel_index(i, cm.shape) for i in order]
    return [(classes[t], classes[p], int(cm[t, p])) for t, p in pairs if cm[t, p] > 0]

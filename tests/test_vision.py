"""helpers.vision: t-SNE maps, class maps, confusion matrices."""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import vision  # noqa: E402

CLASSES = ["a", "b", "c"]


def _blobs(n_per_class: int = 20, dims: int = 60, spread: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dims)) * 5
    X = np.concatenate([c + spread * rng.normal(size=(n_per_class, dims)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return X.astype(np.float32), y


def _knn1_accuracy(points: np.ndarray, y: np.ndarray) -> float:
    d = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float((y[d.argmin(1)] == y).mean())


def test_tsne_maps_keep_clusters_and_follow_previous_map():
    X, y = _blobs()
    snapshots = [torch.from_numpy(X), X + 0.01]  # a tensor and an array, nearly equal
    maps = vision.tsne_maps(snapshots, pca_dims=10, perplexity=10)
    assert len(maps) == 2 and all(m.shape == (60, 2) for m in maps)
    assert _knn1_accuracy(maps[0], y) == 1.0  # well-separated blobs stay separated
    # The second map starts from the first, so it stays close to it (no new rotation).
    scale = np.abs(maps[0]).max()
    assert np.abs(maps[1] - maps[0]).max() < 0.5 * scale


def test_tsne_maps_bad_input():
    X, _ = _blobs()
    with pytest.raises(ValueError, match="at least one snapshot"):
        vision.tsne_maps([])
    with pytest.raises(ValueError, match="same points"):
        vision.tsne_maps([X, X[:30]])
    with pytest.raises(ValueError, match="more points than perplexity"):
        vision.tsne_maps([X[:10]], perplexity=30)


def test_plot_class_map_draws_points_and_names():
    fig, ax = plt.subplots()
    points = np.array([[0, 0], [1, 1], [5, 5]], dtype=float)
    vision.plot_class_map(ax, points, torch.tensor([0, 0, 2]), CLASSES, title="t")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["a", "c"]  # class b has no points, so no name
    assert ax.collections[0].get_offsets().shape == (3, 2)
    assert ax.get_title() == "t"
    plt.close(fig)


def test_plot_class_map_bad_input():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        vision.plot_class_map(ax, np.zeros((3, 3)), [0, 1, 2], CLASSES)
    with pytest.raises(ValueError, match="labels must lie"):
        vision.plot_class_map(ax, np.zeros((2, 2)), [0, 3], CLASSES)
    plt.close(fig)


def test_plot_confusion_counts():
    y_true = torch.tensor([0, 0, 1, 2, 2, 2])
    y_pred = torch.tensor([0, 1, 1, 2, 2, 0])
    ax = vision.plot_confusion(y_true, y_pred, CLASSES)
    values = [t.get_text() for t in ax.texts]  # 3x3 cells, row by row
    assert values == ["1", "1", "0", "0", "1", "0", "1", "0", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == CLASSES
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="same shape"):
        vision.plot_confusion(y_true, y_pred[:3], CLASSES)


def test_most_confused_orders_mistakes():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([1, 1, 0, 0, 1, 2, 2])
    assert vision.most_confused(y_true, y_pred, CLASSES, top=3) == [("a", "b", 2), ("b", "a", 1)]
    assert vision.most_confused(y_true, y_true, CLASSES) == []
    with pytest.raises(ValueError, match="same shape"):
        vision.most_confused(y_true, y_pred[:2], CLASSES)

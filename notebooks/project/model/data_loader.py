"""Fashion-MNIST split three ways: train, validation (held out from train) and test."""

from __future__ import annotations

from collections.abc import Iterator

import torch

import helpers


def load_splits(params, dataset: str = "fashion") -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (X, y), "val": (X, y), "test": (X, y)}`` with the sizes ``params`` asks for.

    The validation images are the ones after the first ``n_train`` of the training set, so the
    hyperparameter search never looks at the test set.
    """
    data = helpers.load_images(dataset, n_train=params.n_train + params.n_val, n_test=params.n_test)
    if len(data.X_train) < params.n_train + params.n_val:
        raise ValueError(f"n_train + n_val = {params.n_train + params.n_val} is more than the "
                         f"{len(data.X_train)} training images")
    n = params.n_train
    return {"train": (data.X_train[:n], data.y_train[:n]),
            "val": (data.X_train[n:], data.y_train[n:]),
            "test": (data.X_test, data.y_test)}


def fetch_batches(split: tuple[torch.Tensor, torch.Tensor], batch_size: int, shuffle: bool,
                  generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches of one split (helpers.batches), shuffled for training only."""
    X, y = split
    return helpers.batches(X, y, batch_size, shuffle=shuffle, generator=generator)

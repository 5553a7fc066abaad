"""Networks that more than one chapter uses (each is taught in its own chapter
first)."""

from __future__ import annotations

import torch
from torch import nn


class CNN(nn.Module):
    """The course's CNN for 28x28 grey images: two conv blocks (16, 32 channels), then a
    linear layer."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Sequential(                     # input (N, 1, 28, 28)
            nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2),  # -> (N, 16, 28, 28)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),                # -> (N, 16, 14, 14)
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(16, 32, kernel_size=5, stride=1, padding=2),  # -> (N, 32, 14, 14)
            nn.ReLU(),
            nn.MaxPool2d(2),                            # -> (N, 32, 7, 7)
        )
        self.out = nn.Linear(32 * 7 * 7, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer: the flattened output of the conv blocks,
        (N, 32*7*7)."""
        return self.conv2(self.conv1(x)).flatten(start_dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))  # logits

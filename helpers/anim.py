"""Animations that play on the static site (JavaScript + embedded PNG frames) and as GIFs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

MAX_FRAMES = 60  # keeps a page light: each frame is one embedded PNG
DPI = 72


def pick_frames(items: Sequence[Any], max_frames: int = MAX_FRAMES) -> list[Any]:
    """Evenly thin ``items`` to at most ``max_frames``, always keeping the first and last."""
    n = len(items)
    if n <= max_frames:
        return list(items)
    idx = np.unique(np.linspace(0, n - 1, max_frames).round().astype(int))
    return [items[i] for i in idx]


def animate(fig: Figure, update: Callable[[Any], Any], frames: Sequence[Any], *,
            interval: int = 150, max_frames: int = MAX_FRAMES, dpi: int = DPI,
            gif: str | Path | None = None) -> HTML:
    """Call ``update(frame)`` for each frame and return an animation that plays inline.

    The figure is closed, so only the animation (not a stray last frame) shows in the page.
    With ``gif`` set, the same frames are also written to that file with imageio.
    """
    frames = pick_frames(frames, max_frames)
    if not frames:
        plt.close(fig)
        raise ValueError("animate() needs at least one frame; got none.")
    fig.set_dpi(dpi)
    anim = FuncAnimation(fig, update, frames=frames, interval=interval, blit=False, repeat=True)
    html = HTML(anim.to_jshtml(fps=max(1, round(1000 / interval)), default_mode="loop"))
    if gif is not None:
        write_gif(fig, update, frames, gif, interval=interval)
    plt.close(fig)
    return html


def render_frames(fig: Figure, update: Callable[[Any], Any], frames: Sequence[Any]) -> list[np.ndarray]:
    """Draw each frame and return it as an RGB array (height, width, 3)."""
    images = []
    for frame in frames:
        update(frame)
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    return images


def write_gif(fig: Figure, update: Callable[[Any], Any], frames: Sequence[Any],
              path: str | Path, interval: int = 150) -> Path:
    """Write the frames to a looping GIF with imageio; return its path."""
    import imageio.v3 as iio  # here, not at the top: most chapters write no GIF (0.2 s to import)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, render_frames(fig, update, frames), duration=interval, loop=0)
    return path

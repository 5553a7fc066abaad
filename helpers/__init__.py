"""Helpers for the Hands-on PyTorch book: data, run settings, training, plotting, animation.

Importing this package changes no global state: seeds, devices and matplotlib settings are
only touched when a chapter calls a function.
"""

from helpers.anim import animate, write_gif
from helpers.data import DataError, ImageData, batches, data_root, load_images, prepare
from helpers.models import CNN
from helpers.paths import chapter_files, output_dir
from helpers.plot import plot_curves, show_images
from helpers.run import describe_run, is_quick, pick_device, record, seed_everything
from helpers.text import CharCorpus, Vocab, load_fortunes
from helpers.train import accuracy, predict, progress

__all__ = [
    "CNN", "DataError", "ImageData", "accuracy", "animate", "batches", "chapter_files", "data_root", "describe_run",
    "is_quick", "load_images", "output_dir", "pick_device", "plot_curves", "predict", "prepare",
    "progress", "record", "seed_everything", "show_images", "write_gif",
    "CharCorpus", "Vocab", "load_fortunes",  # helpers.text
]

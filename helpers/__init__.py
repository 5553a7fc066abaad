"""Helpers for the Hands-on PyTorch book: data, run settings, progress bars, evaluation,
plotting, animation.

Importing this package changes no global state: seeds, devices and matplotlib settings are
only touched when a chapter calls a function.

Modules, by what they hold: ``anim`` (animations), ``data`` (data sets), ``evaluate``
(``predict``, ``accuracy``), ``models`` (models chapters share), ``paths`` (the project, data,
output and chapter folders), ``plot`` (figures, ``moving_average``), ``progress_bar``
(``progress``), ``run`` (budget, seeds, device, threads, ``record``) and ``vision``.

``vision`` (t-SNE maps, class maps, confusion matrices) is not imported here: it loads
scikit-learn, which takes seconds and which only the image chapters need. Those import it by
name, ``from helpers import vision``.
"""

from helpers.anim import animate, write_gif
from helpers.data import DataError, ImageData, batches, load_images, prepare
from helpers.evaluate import accuracy, predict
from helpers.models import CNN
from helpers.paths import chapter_files, data_root, output_dir
from helpers.plot import moving_average, plot_curves, show_images
from helpers.progress_bar import progress
from helpers.run import describe_run, is_quick, pick_device, record, seed_everything, torch_threads
from helpers.text import CharCorpus, Vocab, load_fortunes

__all__ = [
    "CNN", "DataError", "ImageData", "accuracy", "animate", "batches", "chapter_files", "data_root", "describe_run",
    "is_quick", "load_images", "moving_average", "output_dir", "pick_device", "plot_curves", "predict",
    "prepare", "progress", "record", "seed_everything", "show_images", "torch_threads", "write_gif",
    "CharCorpus", "Vocab", "load_fortunes",  # helpers.text
]

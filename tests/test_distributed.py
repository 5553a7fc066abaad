"""The data-parallel chapter's script (notebooks/distributed/ddp_train.py): backend choice and CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "notebooks" / "distributed" / "ddp_train.py"
sys.path.insert(0, str(SCRIPT.parent))
import ddp_train  # noqa: E402


@pytest.mark.parametrize(("n_gpus", "procs", "backend"), [
    (0, 2, "gloo"),   # a CPU machine
    (1, 2, "gloo"),   # one GPU, two processes: NCCL would refuse the shared GPU
    (2, 2, "nccl"),   # a GPU per process
    (8, 4, "nccl"),   # spare GPUs are fine
    (1, 1, "nccl"),
])
def test_pick_backend_needs_a_gpu_per_process(n_gpus, procs, backend):
    assert ddp_train.pick_backend(n_gpus, procs) == backend


def test_build_model_maps_images_to_ten_logits():
    import torch

    assert ddp_train.build_model(32)(torch.zeros(5, 784)).shape == (5, 10)


def test_script_has_help():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--global_batch" in result.stdout

"""Run settings, training helpers, plotting and animation."""

from __future__ import annotations

import os
from pathlib import Path

import imageio.v3 as iio
import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import helpers  # noqa: E402
from helpers import anim, run  # noqa: E402


@pytest.mark.parametrize("value, quick", [("1", True), ("0", False), ("", False)])
def test_quick_budget_switch(monkeypatch, value, quick):
    monkeypatch.setenv("BOOK_QUICK", value)
    assert run.is_quick() is quick


def test_seed_makes_runs_repeatable():
    g1 = run.seed_everything(3)
    a = torch.rand(3), np.random.rand(), torch.rand(2, generator=g1)
    g2 = run.seed_everything(3)
    b = torch.rand(3), np.random.rand(), torch.rand(2, generator=g2)
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and torch.equal(a[2], b[2])


class FakeAccelerator:
    """Stands in for ``torch.accelerator`` on a machine without a GPU."""

    def __init__(self, kind: str | None):
        self.kind = kind

    def is_available(self) -> bool:
        return self.kind is not None

    def current_accelerator(self) -> torch.device:
        return torch.device(self.kind, 0)


@pytest.mark.parametrize("kind", ["cuda", "mps", "xpu"])
def test_device_is_any_accelerator_torch_knows(monkeypatch, kind):
    monkeypatch.setattr(torch, "accelerator", FakeAccelerator(kind), raising=False)
    assert run.pick_device() == torch.device(kind)


def test_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch, "accelerator", FakeAccelerator(None), raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # torch.accelerator decides
    assert run.pick_device() == torch.device("cpu")
    assert "device: cpu |" in run.describe_run(torch.device("cpu"))


@pytest.mark.parametrize("cuda", [True, False])
def test_device_without_torch_accelerator(monkeypatch, cuda):
    monkeypatch.delattr(torch, "accelerator", raising=False)  # a torch older than 2.6
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert run.pick_device() == torch.device("cuda" if cuda else "cpu")


def test_describe_run_names_the_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU 80GB")
    assert "device: cuda (Fake GPU 80GB) |" in run.describe_run(torch.device("cuda"))
    monkeypatch.delattr(torch.mps, "get_device_name", raising=False)
    assert "device: mps (MPS accelerator) |" in run.describe_run(torch.device("mps"))


def test_import_changes_no_global_state():
    """Importing helpers leaves the random states, torch's threads and default dtype, and
    matplotlib's backend and settings as they were (a fresh interpreter, so nothing is cached),
    and loads neither scikit-learn nor imageio, which only some chapters need (importing them
    takes seconds and 0.2 s, in every chapter's first cell)."""
    import subprocess
    import sys

    code = """if True:
        import random, numpy as np, torch, matplotlib
        before = (torch.random.get_rng_state(), random.getstate(), np.random.get_state()[1].copy(),
                  torch.get_num_threads(), torch.get_default_dtype(), matplotlib.get_backend(),
                  dict(matplotlib.rcParams))
        import helpers
        after = (torch.random.get_rng_state(), random.getstate(), np.random.get_state()[1].copy(),
                 torch.get_num_threads(), torch.get_default_dtype(), matplotlib.get_backend(),
                 dict(matplotlib.rcParams))
        assert torch.equal(before[0], after[0]), "torch's random state"
        assert before[1] == after[1], "random's state"
        assert (before[2] == after[2]).all(), "numpy's random state"
        for name, a, b in zip(["threads", "dtype", "backend"], before[3:6], after[3:6]):
            assert a == b, f"{name}: {a} became {b}"
        changed = {k for k in before[6] if str(before[6][k]) != str(after[6][k])}
        assert not changed, f"matplotlib settings changed: {sorted(changed)}"
        import sys
        loaded = {"sklearn", "imageio"} & set(sys.modules)
        assert not loaded, f"import helpers loaded {sorted(loaded)}: import it where it is used"
    """
    root = str(Path(helpers.__file__).resolve().parents[1])  # the helpers under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_exported_name_exists_and_is_documented():
    missing = [name for name in helpers.__all__ if not hasattr(helpers, name)]
    assert not missing, f"helpers.__all__ names what helpers lacks: {missing}"
    undocumented = [name for name in helpers.__all__ if not (getattr(helpers, name).__doc__ or "").strip()]
    assert not undocumented, f"exported without a docstring: {undocumented}"


def test_accuracy_and_predict_in_batches():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    y = torch.tensor([0, 1, 0, 0])
    assert helpers.accuracy(model, X, y, batch_size=3) == 0.75
    assert torch.allclose(helpers.predict(model, X, batch_size=1), model(X))


@pytest.mark.parametrize("training", [True, False])
def test_predict_and_accuracy_evaluate_in_eval_mode_and_restore_the_mode(training):
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train(training)
    modes = []
    model[1].register_forward_hook(lambda module, inputs, output: modes.append(module.training))
    X, y = torch.randn(6, 4), torch.tensor([0, 1, 0, 1, 0, 1])
    first = helpers.predict(model, X)
    assert torch.equal(first, helpers.predict(model, X)), "dropout must be off while predicting"
    helpers.accuracy(model, X, y, batch_size=4)
    assert modes and not any(modes), "every forward pass ran in eval mode"
    assert model.training is training and all(m.training is training for m in model.modules())


def test_progress_counts_everything(capsys):
    assert list(helpers.progress(range(5), desc="t")) == [0, 1, 2, 3, 4]
    assert "5/5" in capsys.readouterr().out


def test_pick_frames_caps_and_keeps_the_ends():
    frames = list(range(500))
    picked = anim.pick_frames(frames, max_frames=10)
    assert len(picked) == 10 and picked[0] == 0 and picked[-1] == 499
    assert anim.pick_frames([1, 2], max_frames=10) == [1, 2]


def _line_figure():
    fig, ax = plt.subplots(figsize=(2, 2))
    (line,) = ax.plot([], [])
    ax.set(xlim=(0, 1), ylim=(0, 5))
    return fig, lambda k: line.set_data([0, 1], [0, k])


def test_animate_embeds_every_frame_and_closes_the_figure(tmp_path):
    fig, update = _line_figure()
    html = helpers.animate(fig, update, list(range(80)), max_frames=12, gif=tmp_path / "a.gif")
    assert html.data.count("data:image/png;base64") == 12  # one embedded PNG per frame
    assert "anim-state" in html.data or "Animation" in html.data  # the play controls
    assert not plt.fignum_exists(fig.number)
    gif = iio.imread(tmp_path / "a.gif", index=None)
    assert gif.shape[0] == 12 and gif.shape[-1] == 3


def test_animate_without_frames_is_an_error():
    fig, update = _line_figure()
    with pytest.raises(ValueError, match="at least one frame"):
        helpers.animate(fig, update, [])


def test_show_images_labels_each_image():
    fig = helpers.show_images(torch.rand(5, 1, 28, 28), ["a", "b", "c", "d", "e"], ncols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["a", "b", "c", "d", "e"] and len(fig.axes) == 6
    plt.close(fig)


@pytest.mark.parametrize("quick, budget", [("1", "quick"), ("0", "full")])
def test_output_dir_is_created_per_budget(tmp_path, monkeypatch, quick, budget):
    monkeypatch.setenv("BOOK_OUTPUT", str(tmp_path))
    monkeypatch.setenv("BOOK_QUICK", quick)
    path = helpers.output_dir("ch")
    assert path == tmp_path / budget / "ch" and path.is_dir()


def test_a_quick_run_never_writes_where_the_full_run_did(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_OUTPUT", str(tmp_path))
    monkeypatch.setenv("BOOK_QUICK", "0")
    full = helpers.output_dir("ch")
    monkeypatch.setenv("BOOK_QUICK", "1")
    quick = helpers.output_dir("ch")
    assert full != quick and not quick.is_relative_to(full) and not full.is_relative_to(quick)


def test_record_returns_the_value_and_glues_it(monkeypatch):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda k, v, display: glued.update({k: (v, display)}))
    assert helpers.record("ch-metric", 0.5) == 0.5
    assert glued == {"ch-metric": (0.5, False)}


@pytest.mark.parametrize("value, plain", [
    (torch.tensor(0.25), 0.25), (torch.tensor([3]), 3), (np.float32(0.5), 0.5), (np.int64(57), 57),
    (np.array(2.5), 2.5), (7, 7), (0.125, 0.125)])
def test_record_stores_plain_numbers(monkeypatch, value, plain):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda k, v, display: glued.update({k: v}))
    returned = helpers.record("ch-metric", value)
    assert returned == plain and type(returned) is type(plain) and type(glued["ch-metric"]) is type(plain)


@pytest.mark.parametrize("value", [torch.tensor([0.1, 0.2]), np.zeros(0), "0.5", None, True, [1.0]])
def test_record_refuses_what_is_not_one_number(value):
    with pytest.raises(TypeError, match="checked number"):
        helpers.record("ch-metric", value)


def test_torch_threads_restores_the_count_even_after_an_error():
    before = torch.get_num_threads()
    with helpers.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(KeyError):
        with helpers.torch_threads(1):
            raise KeyError("inside")
    assert torch.get_num_threads() == before


def test_moving_average_is_the_mean_of_each_window():
    out = helpers.moving_average([1, 2, 3, 4, 5], 2)
    assert isinstance(out, np.ndarray) and out.tolist() == [1.5, 2.5, 3.5, 4.5]
    assert helpers.moving_average(torch.arange(6.0), 3).tolist() == pytest.approx([1.0, 2.0, 3.0, 4.0])
    assert helpers.moving_average([4.0], 1).tolist() == [4.0]
    with pytest.raises(ValueError, match="at least 3"):
        helpers.moving_average([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="at least 1"):
        helpers.moving_average([1.0, 2.0], 0)


def test_data_root_and_output_dir_share_the_one_project_root(monkeypatch):
    monkeypatch.delenv("BOOK_DATA", raising=False)
    monkeypatch.delenv("BOOK_OUTPUT", raising=False)
    assert helpers.data_root() == helpers.paths.PROJECT_ROOT / "data"
    assert helpers.data_root is helpers.data.data_root  # still importable where it was


def test_vision_is_left_to_the_chapters_that_import_it():
    """Importing helpers does not load scikit-learn (helpers.vision does); the docstring says so."""
    import subprocess
    import sys

    code = "import sys, helpers; assert 'sklearn' not in sys.modules; from helpers import vision; vision.tsne_maps"
    root = str(Path(helpers.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "from helpers import vision" in helpers.__doc__


def test_chapter_files_found_from_any_folder(tmp_path, monkeypatch):
    """A chapter's companion folder is found from an empty folder (a downloaded notebook) in
    the installed project, else beside the notebook; missing, the error says what to do."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project").mkdir()  # an unrelated folder of the same name does not win
    assert helpers.chapter_files("project") == (helpers.paths.PROJECT_ROOT / "notebooks" / "project").resolve()
    assert (helpers.chapter_files("distributed") / "ddp_train.py").is_file()
    (tmp_path / "extras").mkdir()
    assert helpers.chapter_files("extras") == (tmp_path / "extras").resolve()
    with pytest.raises(FileNotFoundError, match=r"notebooks/nowhere/ of the book's repository"):
        helpers.chapter_files("nowhere")

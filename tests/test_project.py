"""The example project of the "From notebook to project" chapter (notebooks/project/)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

import helpers
from helpers import data as helpers_data

PROJECT_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "project"
sys.path.insert(0, str(PROJECT_DIR))

import evaluate  # noqa: E402
import search_hyperparams  # noqa: E402
import synthesize_results  # noqa: E402
import train  # noqa: E402
import utils  # noqa: E402
from model import data_loader, net  # noqa: E402

TINY = {"model": "mlp", "learning_rate": 0.01, "batch_size": 32, "num_epochs": 2,
        "n_train": 64, "n_val": 32, "n_test": 32, "seed": 0}
SCRIPTS = ["train.py", "evaluate.py", "search_hyperparams.py", "synthesize_results.py"]


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content: to show that a failed run wrote nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_params(folder: Path, params: dict | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = params if isinstance(params, str) else json.dumps(params)
    (folder / "params.json").write_text(text)
    return folder


# utils ---------------------------------------------------------------------------------------

def test_project_params_json_is_valid():
    params = utils.load_params(PROJECT_DIR)
    assert params.model in net.MODELS and params.learning_rate > 0


def test_load_params_from_folder_or_file(tmp_path):
    folder = write_params(tmp_path, TINY)
    assert utils.load_params(folder) == utils.load_params(folder / "params.json") == TINY
    assert utils.load_params(folder).batch_size == 32


def test_params_attribute_error_names_the_setting():
    with pytest.raises(AttributeError, match="dropout"):
        utils.Params(TINY).dropout


def test_missing_params_json_says_how_to_fix(tmp_path):
    with pytest.raises(utils.ParamsError, match="no parameter file.*copying"):
        utils.load_params(tmp_path)


def test_malformed_params_json_names_line_and_column(tmp_path):
    write_params(tmp_path, '{"model": "cnn",\n "learning_rate": 0.01,}')
    with pytest.raises(utils.ParamsError, match="not valid JSON.*line 2"):
        utils.load_params(tmp_path)


def test_params_json_must_be_an_object(tmp_path):
    write_params(tmp_path, "[1, 2]")
    with pytest.raises(utils.ParamsError, match="JSON object.*list"):
        utils.load_params(tmp_path)


@pytest.mark.parametrize("change, message", [
    ({"num_epochs": None}, "missing num_epochs"),
    ({"batch_size": "32"}, "batch_size='32' \\(expected int\\)"),
    ({"batch_size": True}, "expected int"),
    ({"learning_rate": -0.1}, "learning_rate must be positive"),
])
def test_bad_settings_are_named(tmp_path, change, message):
    params = {**TINY, **change}
    params = {k: v for k, v in params.items() if v is not None}
    write_params(tmp_path, params)
    with pytest.raises(utils.ParamsError, match=message):
        utils.load_params(tmp_path)


def test_params_save_round_trip(tmp_path):
    utils.Params(TINY).save(tmp_path / "params.json")
    assert utils.load_params(tmp_path) == TINY


def test_running_average_weights_by_count():
    avg = utils.RunningAverage()
    assert avg() != avg()  # NaN before any value
    avg.update(1.0, 1)
    avg.update(4.0, 3)
    assert avg() == pytest.approx(3.25)


def test_save_dict_to_json(tmp_path):
    utils.save_dict_to_json({"accuracy": torch.tensor(0.5).item(), "loss": 1}, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == {"accuracy": 0.5, "loss": 1.0}


def test_checkpoints_round_trip_and_missing(tmp_path):
    model, other = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters())
    utils.save_checkpoint({"epoch": 1, "model": model.state_dict(), "optimizer": opt.state_dict()},
                          tmp_path, is_best=False)
    assert (tmp_path / "last.pt").exists() and not (tmp_path / "best.pt").exists()
    state = utils.load_checkpoint(tmp_path / "last.pt", other, torch.optim.Adam(other.parameters()))
    assert state["epoch"] == 1 and torch.equal(other.weight, model.weight)
    with pytest.raises(utils.CheckpointError, match="train first"):
        utils.load_checkpoint(tmp_path / "best.pt", other)


def test_a_failed_save_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    model = torch.nn.Linear(2, 2)
    utils.save_checkpoint({"epoch": 1, "model": model.state_dict()}, tmp_path, is_best=True)
    before = listing(tmp_path)

    def full_disk(obj, path):
        Path(path).write_bytes(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        utils.save_checkpoint({"epoch": 2, "model": model.state_dict()}, tmp_path, is_best=True)
    assert listing(tmp_path) == before  # epoch 1 intact, no .part file


def test_set_logger_writes_the_file_and_switches(tmp_path):
    utils.set_logger(tmp_path / "one.log").info("first")
    logger = utils.set_logger(tmp_path / "two.log")
    logger.info("second")
    for handler in logger.handlers:
        handler.flush()
    assert len(logger.handlers) == 2
    assert (tmp_path / "one.log").read_text().strip().endswith("first")
    assert (tmp_path / "two.log").read_text().strip().endswith("second")


# model ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_build_model_gives_ten_logits(name):
    model = net.build_model(utils.Params(TINY, model=name))
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'vit'.*cnn"):
        net.build_model(utils.Params(TINY, model="vit"))


def test_accuracy_metric():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 1.0]])
    assert net.accuracy(logits, torch.tensor([0, 1, 1, 1])) == 0.75


def test_splits_are_disjoint_and_sized():
    splits = data_loader.load_splits(utils.Params(TINY))
    assert [len(splits[s][0]) for s in ("train", "val", "test")] == [64, 32, 32]
    assert not torch.equal(splits["train"][0][:32], splits["val"][0])
    batches = list(data_loader.fetch_batches(splits["val"], 10, shuffle=False))
    assert [len(y) for _, y in batches] == [10, 10, 10, 2]


def test_splits_refuse_more_images_than_exist():
    with pytest.raises(ValueError, match="more than the 60000"):
        data_loader.load_splits(utils.Params(TINY, n_train=60000))


# scripts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_help(script):
    out = subprocess.run([sys.executable, str(PROJECT_DIR / script), "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("usage:") and "--" in out


@pytest.mark.parametrize("script", ["train.py", "evaluate.py"])
def test_scripts_fail_clearly_without_params(tmp_path, script):
    result = subprocess.run([sys.executable, str(PROJECT_DIR / script), "--model_dir", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "error: no parameter file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("script", ["train.py", "evaluate.py"])
def test_scripts_fail_clearly_on_malformed_params(tmp_path, script):
    (tmp_path / "params.json").write_text('{"model": "cnn",\n}')
    result = subprocess.run([sys.executable, str(PROJECT_DIR / script), "--model_dir", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "is not valid JSON" in result.stderr and "line 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_then_evaluate(tmp_path):
    folder = write_params(tmp_path / "exp", TINY)
    best = train.main(["--model_dir", str(folder)])
    assert {"accuracy", "loss"} <= set(best)
    # an accuracy is a count of the validation images over their number, and the best epoch's
    correct = best["accuracy"] * TINY["n_val"]
    assert correct == pytest.approx(round(correct)), f"{best['accuracy']} is no count out of {TINY['n_val']}"
    logged = [float(m) for m in re.findall(r"val accuracy (\d\.\d+)", (folder / "train.log").read_text())]
    assert len(logged) == TINY["num_epochs"], logged
    assert best["accuracy"] == pytest.approx(max(logged), abs=1e-4), (best, logged)
    names = {p.name for p in folder.iterdir()}
    assert {"best.pt", "last.pt", "train.log", "metrics_val_best.json"} <= names
    result = evaluate.main(["--model_dir", str(folder), "--split", "val"])
    assert result["accuracy"] == pytest.approx(best["accuracy"])  # best.pt is the best on val
    assert (folder / "metrics_val_best.json").exists()


# What passes the params.json check and fails later: one line "error: ...", exit status 1,
# nothing written. In-process (SystemExit's message is what Python prints to stderr); one
# test runs a script as a process to show the whole path.


def checkpoint(path: Path, model: torch.nn.Module, **extra) -> Path:
    torch.save({"epoch": 1, "model": model.state_dict(), **extra}, path)
    return path


def _unsafe(path: Path) -> None:  # a pickle weights_only refuses: it could run code
    checkpoint(path, net.mlp(), args=argparse.Namespace(lr=0.1))


def _truncated(path: Path) -> None:
    checkpoint(path, net.mlp())
    path.write_bytes(path.read_bytes()[:1000])


def _other_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "not a checkpoint")


BAD_CHECKPOINTS = {
    "missing": (lambda p: None, "no checkpoint at {p}: train first"),
    "text": (lambda p: p.write_text("hello"), "{p} is not a checkpoint torch.load can read"),
    "empty": (lambda p: p.write_bytes(b""), "{p} is not a checkpoint torch.load can read"),
    "truncated": (_truncated, "{p} is not a checkpoint torch.load can read"),
    "zip": (_other_zip, "{p} is not a checkpoint torch.load can read"),
    "unsafe": (_unsafe, "{p} holds Python objects besides tensors"),
    "tensor": (lambda p: torch.save(torch.zeros(3), p), "{p} is not one of this project's checkpoints"),
    "other network": (lambda p: checkpoint(p, helpers.CNN()),
                      "{p} holds the weights of another network than the one params.json names"),
}


def run_main(main, argv: list[str], capsys) -> str:
    """The one-line message a failing script ends with; its stdout and stderr must be empty."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    message = exit_.value.code
    out = capsys.readouterr()
    assert isinstance(message, str) and message.startswith("error: ") and "\n" not in message
    assert "weights_only" not in message + out.out + out.err and "Traceback" not in out.err
    return message


@pytest.mark.parametrize("case", BAD_CHECKPOINTS)
def test_evaluate_refuses_a_bad_checkpoint_in_one_line(tmp_path, capsys, case):
    folder = write_params(tmp_path, TINY)  # an mlp
    plant, expected = BAD_CHECKPOINTS[case]
    plant(folder / "best.pt")
    before = listing(folder)
    message = run_main(evaluate.main, ["--model_dir", str(folder)], capsys)
    assert message.startswith("error: " + expected.format(p=folder / "best.pt"))
    assert listing(folder) == before


def test_evaluate_ends_in_one_line_as_a_process(tmp_path):
    folder = write_params(tmp_path, TINY)
    _unsafe(folder / "best.pt")
    before = listing(folder)
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "evaluate.py"), "--model_dir",
                             str(folder)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {folder / 'best.pt'} holds Python objects besides")
    assert result.stderr.count("\n") == 1 and "weights_only" not in result.stderr
    assert listing(folder) == before


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty data root, and no Debian package: neither data set is on this machine."""
    monkeypatch.setenv("BOOK_DATA", str(tmp_path / "no-data"))
    spec = dataclasses.replace(helpers_data.DATASETS["fashion"], system_dir=tmp_path / "none")
    monkeypatch.setitem(helpers_data.DATASETS, "fashion", spec)


def test_train_without_the_data_set(tmp_path, capsys, no_data):
    folder = write_params(tmp_path / "exp", TINY)
    before = listing(tmp_path)
    message = run_main(train.main, ["--model_dir", str(folder), "--dataset", "digits"], capsys)
    assert message.startswith("error: MNIST digits is not on this machine")
    assert message.endswith("or use the offline default 'fashion' instead.")
    assert listing(tmp_path) == before  # no train.log, no checkpoint


def test_evaluate_without_the_data_set(tmp_path, capsys, no_data):
    folder = write_params(tmp_path / "exp", TINY)
    checkpoint(folder / "best.pt", net.mlp())
    before = listing(tmp_path)
    message = run_main(evaluate.main, ["--model_dir", str(folder)], capsys)
    assert message.startswith("error: Fashion-MNIST is not on this machine")
    assert listing(tmp_path) == before


@pytest.mark.parametrize("main", [train.main, evaluate.main], ids=["train", "evaluate"])
def test_unknown_model_name_in_one_line(tmp_path, capsys, main):
    folder = write_params(tmp_path, {**TINY, "model": "vit"})
    before = listing(folder)
    message = run_main(main, ["--model_dir", str(folder)], capsys)
    assert message == "error: unknown model 'vit' in params.json; choose one of ['cnn', 'mlp']"
    assert listing(folder) == before


@pytest.mark.parametrize("main", [train.main, evaluate.main], ids=["train", "evaluate"])
def test_model_dir_that_is_a_file(tmp_path, capsys, main):
    params = write_params(tmp_path, TINY) / "params.json"
    message = run_main(main, ["--model_dir", str(params)], capsys)
    assert message == (f"error: --model_dir {params} is a file, not a folder: pass the experiment "
                       "folder that holds params.json")
    assert listing(tmp_path) == {"params.json": json.dumps(TINY).encode()}


def test_train_cannot_write_its_log(tmp_path, capsys):
    folder = write_params(tmp_path, TINY)
    (folder / "train.log").mkdir()  # as good as a read-only folder, and root cannot ignore it
    message = run_main(train.main, ["--model_dir", str(folder)], capsys)
    assert message == (f"error: could not write {folder / 'train.log'} (Is a directory): check "
                       "that the folder is writable and the disk has space")
    assert listing(folder) == {"params.json": json.dumps(TINY).encode()}


def test_train_asks_for_more_images_than_exist(tmp_path, capsys):
    folder = write_params(tmp_path, {**TINY, "n_train": 59_990})
    message = run_main(train.main, ["--model_dir", str(folder)], capsys)
    assert message == "error: n_train + n_val = 60022 is more than the 60000 training images"
    assert listing(folder) == {"params.json": json.dumps({**TINY, "n_train": 59_990}).encode()}


# search and synthesis ------------------------------------------------------------------------

def test_parse_grid_and_values():
    grid = search_hyperparams.parse_grid(["learning_rate=0.1,1e-3", "model=cnn", "flag=true"])
    assert grid == {"learning_rate": [0.1, 0.001], "model": ["cnn"], "flag": [True]}
    with pytest.raises(ValueError, match="KEY=VALUE1,VALUE2"):
        search_hyperparams.parse_grid(["learning_rate"])


def test_experiments_are_named_by_what_varies():
    grid = {"learning_rate": [0.1, 0.01], "model": ["cnn", "mlp"], "num_epochs": [1]}
    todo = search_hyperparams.experiments(TINY, grid)
    assert sorted(todo) == ["learning_rate_0.01-model_cnn", "learning_rate_0.01-model_mlp",
                            "learning_rate_0.1-model_cnn", "learning_rate_0.1-model_mlp"]
    assert all(p["num_epochs"] == 1 for p in todo.values())
    assert list(search_hyperparams.experiments(TINY, {})) == ["base"]
    with pytest.raises(utils.ParamsError, match="batch_size='big'"):
        search_hyperparams.experiments(TINY, {"batch_size": ["big"]})


def test_search_rejects_a_malformed_base(tmp_path):
    write_params(tmp_path, "{not json")
    with pytest.raises(SystemExit, match="not valid JSON"):
        search_hyperparams.main(["--out", str(tmp_path / "out"), "--base", str(tmp_path)])


def test_search_reports_a_failing_experiment(tmp_path):
    base = write_params(tmp_path / "base", TINY)
    with pytest.raises(SystemExit, match="1 of 1 experiments failed"):  # train.py rejects the model
        search_hyperparams.main(["--out", str(tmp_path / "out"), "--base", str(base),
                                 "--param", "model=vit"])
    folder = tmp_path / "out" / "base"
    assert json.loads((folder / "params.json").read_text()) == {**TINY, "model": "vit"}
    assert (folder / "output.txt").read_text().startswith("error: unknown model 'vit'")
    assert sorted(p.name for p in folder.iterdir()) == ["output.txt", "params.json"]


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "argument --jobs: expected a whole number of at least 1, not '0'"),
    (["--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
])
def test_search_rejects_bad_options_before_starting(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        search_hyperparams.main(["--out", str(tmp_path / "out"), *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_search_out_must_be_a_folder(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(SystemExit, match="^error: --out .*out is a file, not a folder"):
        search_hyperparams.main(["--out", str(tmp_path / "out")])
    assert (tmp_path / "out").read_text() == "a file"


def test_synthesize_table_best_first(tmp_path):
    for name, lr, acc in [("a", 0.1, 0.5), ("b", 0.01, 0.8)]:
        folder = write_params(tmp_path / name, {**TINY, "learning_rate": lr})
        utils.save_dict_to_json({"accuracy": acc, "loss": 1 - acc}, folder / "metrics_val_best.json")
    table = synthesize_results.main(["--parent_dir", str(tmp_path)])
    lines = table.splitlines()
    assert lines[0] == "| experiment | learning_rate | accuracy | loss |"
    assert lines[2].startswith("| b | 0.01 | 0.8000") and lines[3].startswith("| a |")
    assert (tmp_path / "results.md").read_text().strip() == table


def test_synthesize_names_a_malformed_metrics_file(tmp_path):
    folder = write_params(tmp_path / "a", TINY)
    (folder / "metrics_val_best.json").write_text('{"accuracy": ')
    with pytest.raises(SystemExit, match="^error: .*metrics_val_best.json is not valid JSON .*"
                                         "run that experiment's train.py again$"):
        synthesize_results.main(["--parent_dir", str(tmp_path)])
    (folder / "metrics_val_best.json").write_text('{"accuracy": "high"}')
    with pytest.raises(SystemExit, match="must map metric names to numbers"):
        synthesize_results.main(["--parent_dir", str(tmp_path)])
    assert not (tmp_path / "results.md").exists()


def test_synthesize_without_results_fails_clearly(tmp_path):
    with pytest.raises(SystemExit, match="no metrics_val_best.json.*search_hyperparams"):
        synthesize_results.main(["--parent_dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="not a folder"):
        synthesize_results.main(["--parent_dir", str(tmp_path / "missing")])

"""The example project of the "From notebook to project" chapter (notebooks/project/)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

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
    with pytest.raises(FileNotFoundError, match="train first"):
        utils.load_checkpoint(tmp_path / "best.pt", other)


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


def test_evaluate_without_checkpoint_fails_clearly(tmp_path):
    folder = write_params(tmp_path, TINY)
    with pytest.raises(SystemExit, match="no checkpoint.*train first"):
        evaluate.main(["--model_dir", str(folder)])


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
    with pytest.raises(SystemExit, match="1 of 1 experiments failed"):  # train.py rejects the data set
        search_hyperparams.main(["--out", str(tmp_path / "out"), "--base", str(base),
                                 "--dataset", "no-such-data"])
    assert json.loads((tmp_path / "out" / "base" / "params.json").read_text()) == TINY


def test_synthesize_table_best_first(tmp_path):
    for name, lr, acc in [("a", 0.1, 0.5), ("b", 0.01, 0.8)]:
        folder = write_params(tmp_path / name, {**TINY, "learning_rate": lr})
        utils.save_dict_to_json({"accuracy": acc, "loss": 1 - acc}, folder / "metrics_val_best.json")
    table = synthesize_results.main(["--parent_dir", str(tmp_path)])
    lines = table.splitlines()
    assert lines[0] == "| experiment | learning_rate | accuracy | loss |"
    assert lines[2].startswith("| b | 0.01 | 0.8000") and lines[3].startswith("| a |")
    assert (tmp_path / "results.md").read_text().strip() == table


def test_synthesize_without_results_fails_clearly(tmp_path):
    with pytest.raises(SystemExit, match="no metrics_val_best.json.*search_hyperparams"):
        synthesize_results.main(["--parent_dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="not a folder"):
        synthesize_results.main(["--parent_dir", str(tmp_path / "missing")])

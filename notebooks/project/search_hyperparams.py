"""Run train.py once per hyperparameter setting, each in its own experiment folder.

Example: python search_hyperparams.py --out experiments/lr_search \
             --param learning_rate=0.0003,0.001,0.003 --param model=cnn,mlp --jobs 2
Every combination of the --param values gets a folder <out>/<name>/ with its own params.json
(the base params.json with that setting applied) and train.py's results. A --param with a
single value changes that setting in every experiment.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import utils

PROJECT_DIR = Path(__file__).resolve().parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path,
                        help="parent folder for the experiment folders (created if missing)")
    parser.add_argument("--base", type=Path, default=PROJECT_DIR / utils.PARAMS_FILE,
                        help="base params.json, or a folder holding one (default: the project's)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=V1,V2,...",
                        help="values to try for one setting; repeat for a grid")
    parser.add_argument("--jobs", type=_positive_int, default=1,
                        help="experiments run at once (default 1)")
    parser.add_argument("--dataset", default="fashion", choices=["fashion", "digits"],
                        help="passed on to train.py")
    return parser


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def parse_value(text: str):
    """A JSON number/bool/string from the command line; bare words are strings."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_grid(specs: list[str]) -> dict[str, list]:
    """``["lr=0.1,0.01", "model=cnn"]`` -> ``{"lr": [0.1, 0.01], "model": ["cnn"]}``."""
    grid = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not key or not values:
            raise ValueError(f"--param {spec!r} should look like KEY=VALUE1,VALUE2")
        grid[key.strip()] = [parse_value(v.strip()) for v in values.split(",")]
    return grid


def experiments(base: dict, grid: dict[str, list]) -> dict[str, dict]:
    """One params dict per combination, named after the settings that vary (``base`` if none)."""
    varying = [k for k, values in grid.items() if len(values) > 1]
    result = {}
    for combo in itertools.product(*grid.values()):
        setting = dict(zip(grid, combo))
        name = "-".join(f"{k}_{setting[k]}" for k in varying) or "base"
        params = {**base, **setting}
        utils.check_params(params, utils.PARAMS_SCHEMA, source=f"experiment {name}")
        result[name] = params
    return result


def launch(model_dir: Path, dataset: str, threads: int) -> tuple[int, float]:
    """Run train.py for one experiment folder; its output goes to <model_dir>/output.txt."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(threads))}
    start = time.perf_counter()
    with open(model_dir / "output.txt", "w") as out:
        rc = subprocess.run([sys.executable, str(PROJECT_DIR / "train.py"), "--model_dir",
                             str(model_dir), "--dataset", dataset], stdout=out,
                            stderr=subprocess.STDOUT, env=env).returncode
    return rc, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        base = utils.load_params(args.base)
        todo = experiments(base, parse_grid(args.param))
    except (utils.ParamsError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    if args.out.exists() and not args.out.is_dir():
        sys.exit(f"error: --out {args.out} is a file, not a folder: name a folder for the experiments")
    threads = max(1, (os.cpu_count() or 1) // args.jobs)  # share the cores, don't oversubscribe
    dirs = []
    with utils.exit_on(OSError):  # e.g. a read-only --out
        for name, params in todo.items():
            (args.out / name).mkdir(parents=True, exist_ok=True)
            utils.Params(params).save(args.out / name / utils.PARAMS_FILE)
            dirs.append(args.out / name)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda d: launch(d, args.dataset, threads), dirs))
    failed = []
    for model_dir, (rc, seconds) in zip(dirs, results):
        print(f"{model_dir.name}: {'done' if rc == 0 else f'FAILED (exit {rc})'} in {seconds:.1f} s")
        if rc != 0:
            failed.append(model_dir)
            print("  " + "\n  ".join((model_dir / "output.txt").read_text().splitlines()[-5:]))
    if failed:
        sys.exit(f"error: {len(failed)} of {len(dirs)} experiments failed; see output.txt in each")


if __name__ == "__main__":
    main()

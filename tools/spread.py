"""Measure how much each chapter's checked numbers move between machines, threads and seeds.

A chapter's check (``accuracy >= 0.91``) must hold on any reader's machine, not only on the one
that chose the threshold. Floating-point sums come out differently with another thread count
or CPU, and a different seed starts training elsewhere, so every checked number has a spread.
This script measures it: it runs chapters, each in its own process, under every combination
of thread count and seed shift asked for, and prints, for every number a chapter publishes with
``helpers.record`` (the same numbers the status page shows), the lowest and highest value seen.

    python tools/spread.py notebooks/04_regression.md notebooks/12_cnn.md \
        --threads 1 2 --seed-shifts 0 1 2 --budget full --jobs 2 --json spread.json

A seed shift of ``k`` adds ``k`` to every seed a chapter passes to ``helpers.seed_everything``
(the chapter's code is not edited); seeds a chapter sets by other means stay as they are.
Cells run in one IPython shell per chapter (no Jupyter kernel is needed), with matplotlib's
Agg backend; a cell tagged ``raises-exception`` may raise. The run of one chapter stops at its
first unexpected error, which is reported with the numbers recorded up to then.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

RESULT_MARK = "@@spread-result@@ "


def run_one(path: Path, shift: int) -> dict:
    """Run one chapter in this process; return what it recorded and whether it got through."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import jupytext
    from IPython.core.interactiveshell import InteractiveShell

    import helpers
    import helpers.run

    records: dict[str, float] = {}
    original_seed = helpers.run.seed_everything

    def shifted_seed(seed: int = 0):
        return original_seed(seed + shift)

    def capture(key: str, value: float) -> float:
        records[key] = float(value)
        return value

    helpers.seed_everything = helpers.run.seed_everything = shifted_seed
    helpers.record = helpers.run.record = capture

    notebook = jupytext.read(path)
    shell = InteractiveShell.instance()
    os.chdir(path.parent)  # a notebook runs in its own folder, as under nbval and Jupyter Book
    start, error = time.perf_counter(), None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        result = shell.run_cell(cell.source, silent=False)
        expected = "raises-exception" in cell.metadata.get("tags", [])
        failure = result.error_in_exec or result.error_before_exec
        if failure is not None and not expected:
            error = f"cell {index}: {type(failure).__name__}: {failure}"
            break
    return {"records": records, "error": error, "seconds": time.perf_counter() - start}


def launch(path: Path, threads: int, shift: int, budget: str) -> dict:
    """Run one chapter in a fresh Python with the given thread count and seed shift."""
    with tempfile.TemporaryDirectory(prefix="spread-") as outputs:  # runs never share files
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
               "BOOK_QUICK": "1" if budget == "quick" else "0", "MPLBACKEND": "Agg",
               "BOOK_OUTPUT": outputs}
        proc = subprocess.run([sys.executable, __file__, "--one", str(path.resolve()),
                               "--shift", str(shift)], capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if not lines:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        result = {"records": {}, "error": f"exit {proc.returncode}: {tail}", "seconds": None}
    else:
        result = json.loads(lines[-1][len(RESULT_MARK):])
    return {"chapter": path.stem, "threads": threads, "shift": shift, "budget": budget, **result}


def summarise(runs: list[dict]) -> list[dict]:
    """One row per (chapter, budget, key): how many runs, lowest and highest value."""
    rows: dict[tuple, dict] = {}
    for run in runs:
        for key, value in run["records"].items():
            row = rows.setdefault((run["chapter"], run["budget"], key),
                                  {"chapter": run["chapter"], "budget": run["budget"], "key": key,
                                   "values": []})
            row["values"].append(value)
    out = []
    for row in rows.values():
        values = row.pop("values")
        out.append({**row, "runs": len(values), "lowest": min(values), "highest": max(values)})
    return sorted(out, key=lambda r: (r["chapter"], r["budget"], r["key"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="notebooks/NN_slug.md files")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seed-shifts", nargs="+", type=int, default=[0])
    parser.add_argument("--budget", nargs="+", choices=["quick", "full"], default=["quick"])
    parser.add_argument("--jobs", type=int, default=1, help="chapter runs at once")
    parser.add_argument("--json", type=Path, help="also write every run and the summary here")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--shift", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(RESULT_MARK + json.dumps(run_one(args.one, args.shift)), flush=True)
        return
    combos = list(itertools.product(args.chapters, args.budget, args.threads, args.seed_shifts))
    runs = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(launch, path, threads, shift, budget)
                   for path, budget, threads, shift in combos]
        for future in as_completed(futures):  # report each run as it ends
            run = future.result()
            runs.append(run)
            took = f"{run['seconds']:.0f} s" if run["seconds"] is not None else "-"
            status = "ok" if run["error"] is None else f"FAILED: {run['error']}"
            print(f"{run['chapter']:<22} {run['budget']:<5} threads {run['threads']} "
                  f"seed+{run['shift']}  {took:>6}  {status}  {json.dumps(run['records'])}",
                  flush=True)
    summary = summarise(runs)
    print(f"\n{'chapter':<22} {'budget':<6} {'key':<44} {'runs':>4} {'lowest':>10} {'highest':>10}")
    for row in summary:
        print(f"{row['chapter']:<22} {row['budget']:<6} {row['key']:<44} {row['runs']:>4} "
              f"{row['lowest']:>10.4g} {row['highest']:>10.4g}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": summary}, indent=1))
    if any(run["error"] for run in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()

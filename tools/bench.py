"""How long the book takes to build: each chapter, both budgets, serial beside parallel.

For each budget it builds the chapters twice into fresh folders under a temporary directory,
in the same invocation so that the two runs share the machine's load: first one chapter at a
time, then ``--jobs`` at a time with each kernel's PyTorch threads split between them (what
``make book`` does, tools/book.py), each followed by the Sphinx passes over the cached
chapters (both editions at once; a table of contents with only the chosen chapters). It prints each chapter's execution time
(kernel start included), the wall time of the execution step, the Sphinx time, the totals and
the ratio serial / parallel:

    python tools/bench.py                                   # every chapter, quick and full
    python tools/bench.py --budget quick --chapters 01_tensors 04_regression 06_sequential
    python tools/bench.py --budget quick --tests            # also pytest -n JOBS beside serial

``--tests`` adds the notebook tests of the chosen chapters, ``pytest`` serial beside
``pytest -n JOBS`` (the nbval half of ``make test``). Report the load average with the numbers:
on a shared machine only the ratios within one invocation are comparable.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("book_tool", HERE / "book.py")
book = importlib.util.module_from_spec(_spec)
sys.modules["book_tool"] = book  # its worker processes look its functions up by module name
_spec.loader.exec_module(book)
ROOT = book.ROOT


def budget_env(budget: str) -> None:
    if budget == "quick":
        os.environ["BOOK_QUICK"] = "1"
    else:
        os.environ.pop("BOOK_QUICK", None)


def write_toc(folder: Path, chapters: list[Path]) -> Path:
    """A table of contents holding only ``chapters`` (the first is the root page)."""
    names = [str(p.relative_to(ROOT).with_suffix("")) for p in chapters]
    toc = folder / "_toc.yml"
    toc.write_text("format: jb-book\nroot: " + names[0] + "\n" + (
        "chapters:\n" + "".join(f"  - file: {n}\n" for n in names[1:]) if names[1:] else ""))
    return toc


def one_build(out: Path, chapters: list[Path], jobs: int, toc: Path) -> dict:
    """Execute ``chapters`` into the cache of ``out`` (``jobs`` at a time), then the Sphinx pass."""
    start = time.perf_counter()
    runs = book.prefill(out, chapters, jobs, log=lambda *a: None)
    execution = time.perf_counter() - start
    start = time.perf_counter()
    log = out / "sphinx.log"
    with log.open("w") as f:  # both editions, as make book builds them (at the same time)
        book.build(out, toc, log=f, together=not any(err for _, err in runs.values()))
    sphinx = time.perf_counter() - start
    text = log.read_text(errors="replace")
    rerun = [p.name for p in chapters if f"{p.name}: Executing notebook" in text]
    failed = [Path(p).name for p, (_, err) in runs.items() if err]
    return {"chapters": {Path(p).name: s for p, (s, _) in runs.items()}, "execution": execution,
            "sphinx": sphinx, "rerun": rerun, "failed": failed}


def one_pytest(chapters: list[Path], jobs: int) -> float:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, chapters)]
    if jobs > 1:
        cmd += ["-n", str(jobs)]
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "BOOK_QUICK": "1"})
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        print(run.stdout[-2000:], file=sys.stderr)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", nargs="+", help="chapter names (e.g. 01_tensors); "
                        "default: every chapter of _toc.yml")
    parser.add_argument("--budget", nargs="+", choices=["quick", "full"], default=["quick", "full"])
    parser.add_argument("--jobs", type=int, default=2, help="chapters side by side (default 2)")
    parser.add_argument("--tests", action="store_true", help="also time pytest serial and -n JOBS")
    args = parser.parse_args(argv)
    chapters = book.chapters()
    if args.chapters:
        wanted = {c.removesuffix(".md") for c in args.chapters}
        chapters = [p for p in chapters if p.stem in wanted]
        missing = wanted - {p.stem for p in chapters}
        if missing:
            parser.error(f"not a chapter of _toc.yml: {', '.join(sorted(missing))}")
    if "OMP_NUM_THREADS" in os.environ:
        print("note: OMP_NUM_THREADS is set, so the parallel runs do not split the threads")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{len(os.sched_getaffinity(0))} cores; jobs {args.jobs}")
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        toc = write_toc(Path(tmp), chapters)
        for budget in args.budget:
            budget_env(budget)
            for label, jobs in (("serial", 1), (f"x{args.jobs}", args.jobs)):
                out = Path(tmp) / f"{budget}-{label}"
                results[budget, label] = one_build(out, chapters, jobs, toc)
                r = results[budget, label]
                print(f"  {budget} {label}: {r['execution']:.0f} s execution, {r['sphinx']:.0f} s "
                      "Sphinx (both editions)", flush=True)
        os.environ.pop("BOOK_QUICK", None)
        tests = {}
        if args.tests:
            for label, jobs in (("serial", 1), (f"x{args.jobs}", args.jobs)):
                tests[label] = one_pytest(chapters, jobs)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    columns = list(results)
    head = ["chapter"] + [f"{b} {lab}" for b, lab in columns]
    rows = [[p.name] + [f"{results[c]['chapters'].get(p.name, float('nan')):.1f}" for c in columns]
            for p in chapters]
    rows.append(["execution (wall)"] + [f"{results[c]['execution']:.1f}" for c in columns])
    rows.append(["Sphinx, both editions"] + [f"{results[c]['sphinx']:.1f}" for c in columns])
    total = {c: results[c]["execution"] + results[c]["sphinx"] for c in columns}
    rows.append(["total"] + [f"{total[c]:.1f}" for c in columns])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))))
    print("\nseconds; a chapter's time includes its kernel's start")
    for budget in args.budget:
        serial, par = results[budget, "serial"], results[budget, f"x{args.jobs}"]
        ratio = (serial["execution"] + serial["sphinx"]) / (par["execution"] + par["sphinx"])
        print(f"{budget}: serial / x{args.jobs} = {ratio:.2f} (total), "
              f"{serial['execution'] / par['execution']:.2f} (execution)")
    for label, seconds in tests.items():
        print(f"pytest {label}: {seconds:.1f} s")
    if tests:
        print(f"pytest: serial / x{args.jobs} = {tests['serial'] / tests[f'x{args.jobs}']:.2f}")
    for (budget, label), r in results.items():
        if r["failed"] or r["rerun"]:
            print(f"warning: {budget} {label}: failed {r['failed']}, run again by Sphinx {r['rerun']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

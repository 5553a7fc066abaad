"""Collect the metrics of every experiment under a folder into one table (Markdown).

Example: python synthesize_results.py --parent_dir experiments/lr_search
Looks for <experiment>/metrics_val_best.json (and params.json beside it) at any depth; prints the
table, best first, and writes it to <parent_dir>/results.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import utils


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parent_dir", required=True, type=Path, help="folder of experiments")
    parser.add_argument("--metrics", default="metrics_val_best.json",
                        help="metrics file to collect (default: metrics_val_best.json)")
    parser.add_argument("--sort", default="accuracy", help="metric to sort by, largest first")
    return parser


def collect(parent_dir: Path, metrics_file: str = "metrics_val_best.json") -> list[dict]:
    """One row per experiment: its name, its params and its metrics."""
    rows = []
    for path in sorted(Path(parent_dir).rglob(metrics_file)):
        params = utils.load_params(path.parent, schema={})
        try:
            metrics = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}): "
                             "run that experiment's train.py again") from None
        if not isinstance(metrics, dict) or not all(
                isinstance(v, (int, float)) for v in metrics.values()):
            raise ValueError(f"{path} must map metric names to numbers: "
                             "run that experiment's train.py again")
        rows.append({"experiment": str(path.parent.relative_to(parent_dir)),
                     "params": dict(params), "metrics": metrics})
    return rows


def to_markdown(rows: list[dict], sort: str = "accuracy") -> str:
    """A Markdown table: the settings that differ between experiments, then the metrics."""
    keys = sorted({k for r in rows for k in r["params"]})
    varying = [k for k in keys if len({json.dumps(r["params"].get(k)) for r in rows}) > 1]
    metric_names = sorted({m for r in rows for m in r["metrics"]})
    rows = sorted(rows, key=lambda r: r["metrics"].get(sort, float("-inf")), reverse=True)
    header = ["experiment", *varying, *metric_names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["experiment"], *(str(r["params"].get(k, "")) for k in varying),
                 *(f"{r['metrics'][m]:.4f}" if m in r["metrics"] else "" for m in metric_names)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    args = build_parser().parse_args(argv)
    if not args.parent_dir.is_dir():
        sys.exit(f"error: {args.parent_dir} is not a folder")
    try:
        rows = collect(args.parent_dir, args.metrics)
    except ValueError as exc:  # a malformed params.json or metrics file
        sys.exit(f"error: {exc}")
    if not rows:
        sys.exit(f"error: no {args.metrics} under {args.parent_dir}: run search_hyperparams.py first")
    table = to_markdown(rows, args.sort)
    (args.parent_dir / "results.md").write_text(table + "\n")
    print(table)
    return table


if __name__ == "__main__":
    main()

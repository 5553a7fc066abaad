"""Evaluate a trained model of one experiment on the validation or the test set.

Example: python evaluate.py --model_dir experiments/base --split test
Reads <model_dir>/params.json and <model_dir>/best.pt; writes <model_dir>/metrics_<split>_best.json.
"""

from __future__ import annotations

import argparse

import utils


def build_parser() -> argparse.ArgumentParser:
    parser = utils.experiment_parser(
        __doc__, "experiment folder holding params.json and the checkpoints")
    parser.add_argument("--restore_file", default="best", choices=["best", "last"],
                        help="which checkpoint to evaluate (default: best)")
    parser.add_argument("--split", default="test", choices=["val", "test"],
                        help="which data to evaluate on (default: test)")
    return parser


def evaluate(model, batches, metrics: dict, device) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``batches``, weighted by batch size."""
    import torch

    from model import net

    model.eval()
    averages = {name: utils.RunningAverage() for name in ["loss", *metrics]}
    with torch.no_grad():
        for X, y in batches:
            X, y = X.to(device), y.to(device)
            logits = model(X)
            averages["loss"].update(net.loss_fn(logits, y).item(), len(y))
            for name, fn in metrics.items():
                averages[name].update(fn(logits, y), len(y))
    return {name: avg() for name, avg in averages.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = build_parser().parse_args(argv)
    params = utils.load_params_or_exit(args.model_dir)

    import helpers
    from model import data_loader, net

    device = helpers.pick_device()
    with utils.exit_on(ValueError, helpers.DataError):  # bad checkpoint, no data
        model = net.build_model(params).to(device)
        utils.load_checkpoint(args.model_dir / f"{args.restore_file}.pt", model)
        split = data_loader.load_splits(params)[args.split]
    batches = data_loader.fetch_batches(split, params.batch_size, shuffle=False)
    result = evaluate(model, batches, net.metrics, device)
    utils.save_dict_to_json(result, args.model_dir / f"metrics_{args.split}_{args.restore_file}.json")
    print(f"{args.split}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    main()

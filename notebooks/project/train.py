"""Train the model of one experiment folder, keeping the checkpoint that does best on
validation.

Example: python train.py --model_dir experiments/base
Reads <model_dir>/params.json; writes train.log, last.pt, best.pt, metrics_val_best.json
and metrics_val_last.json into <model_dir>.
"""

from __future__ import annotations

import argparse

import utils


def build_parser() -> argparse.ArgumentParser:
    parser = utils.experiment_parser(
        __doc__, "experiment folder holding params.json; results are written there")
    parser.add_argument("--dataset", default="fashion", choices=["fashion", "digits"],
                        help="image data set "
                             "(digits needs BOOK_DOWNLOAD=1 and internet)")
    return parser


def train_one_epoch(model, optimizer, batches, device) -> float:
    """One pass over the training batches; returns the mean training loss."""
    from model import net

    model.train()
    loss_avg = utils.RunningAverage()
    for X, y in batches:
        X, y = X.to(device), y.to(device)
        loss = net.loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_avg.update(loss.item(), len(y))
    return loss_avg()


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = build_parser().parse_args(argv)
    params = utils.load_params_or_exit(args.model_dir)

    import torch

    import helpers
    from evaluate import evaluate
    from model import data_loader, net

    generator = helpers.seed_everything(params.seed)
    device = helpers.pick_device()
    # one line, no traceback
    with utils.exit_on(ValueError, OSError, helpers.DataError):
        model = net.build_model(params).to(device)
        splits = data_loader.load_splits(params, args.dataset)
        logger = utils.set_logger(args.model_dir / "train.log")  # first file written
    optimizer = torch.optim.Adam(model.parameters(), lr=params.learning_rate)
    logger.info(f"{args.model_dir.name}: {params.model}, lr {params.learning_rate}, "
                f"{len(splits['train'][0])} training images, device {device}")

    best = None
    for epoch in range(1, params.num_epochs + 1):
        batches = data_loader.fetch_batches(splits["train"], params.batch_size, True,
                                            generator)
        train_loss = train_one_epoch(model, optimizer, batches, device)
        val = evaluate(model, data_loader.fetch_batches(splits["val"], 1000, False),
                       net.metrics, device)
        is_best = best is None or val["accuracy"] > best["accuracy"]
        best = val if is_best else best
        utils.save_checkpoint({"epoch": epoch, "model": model.state_dict(),
                               "optimizer": optimizer.state_dict()},
                              args.model_dir, is_best)
        utils.save_dict_to_json(val, args.model_dir / "metrics_val_last.json")
        if is_best:
            utils.save_dict_to_json(val, args.model_dir / "metrics_val_best.json")
        logger.info(f"epoch {epoch}: train loss {train_loss:.4f}, "
                    f"val loss {val['loss']:.4f}, "
                    f"val accuracy {val['accuracy']:.4f}{' (best)' if is_best else ''}")
    return best


if __name__ == "__main__":
    main()

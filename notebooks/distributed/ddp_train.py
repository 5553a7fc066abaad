"""Data-parallel training with DistributedDataParallel: one process per device.

Launch with torchrun, which starts the processes and gives each its RANK and WORLD_SIZE:

    torchrun --standalone --nproc_per_node=2 ddp_train.py --data data.pt --out run/

With a GPU for every process on a machine, each process drives one GPU and the backend
is NCCL; otherwise (a CPU, or fewer GPUs than processes) the processes run on the CPU
and talk through gloo. Several machines: run the same command on each with --nnodes=N
--node_rank=i and a shared --rdzv_endpoint=host:port instead of --standalone.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def build_model(n_hidden: int = 256) -> nn.Sequential:
    """An MLP for flattened 28x28 images (no dropout or batch norm, so runs can be
    compared exactly)."""
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(),
                         nn.Linear(n_hidden, n_hidden), nn.ReLU(),
                         nn.Linear(n_hidden, 10))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path,
                        help="tensors X (N, 784), y (N,) saved with torch.save")
    parser.add_argument("--out", required=True, type=Path,
                        help="folder for the checkpoint and the log")
    parser.add_argument("--global_batch", type=int, default=128,
                        help="batch size over all processes")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the data")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    parser.add_argument("--hidden", type=int, default=256,
                        help="hidden units of the MLP")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the weights and the shuffling")
    parser.add_argument("--log_every", type=int, default=20,
                        help="steps between rank 0's log lines")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="precision of the weights and the data (default float32)")
    return parser


def pick_backend(n_gpus: int, procs_per_machine: int) -> str:
    """``"nccl"`` when every process on this machine can have a GPU of its own, else
    ``"gloo"``.

    NCCL refuses two processes on one GPU, so with fewer GPUs than processes (this
    chapter's two processes on a one-GPU laptop, say) the job runs on the CPU with gloo
    instead.
    """
    return "nccl" if n_gpus >= procs_per_machine > 0 else "gloo"


def setup() -> tuple[int, int, torch.device]:
    """Join the process group that torchrun described in the environment; pick this
    rank's device."""
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    # the process's index on its own machine
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    # processes on this machine
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    n_gpus = torch.cuda.device_count()  # 0 without CUDA
    if pick_backend(n_gpus, local_size) == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)  # GPUs talk through NCCL
    else:
        if n_gpus and rank == 0:
            print(f"{n_gpus} GPU(s) for {local_size} processes per machine: "
                  "NCCL needs one GPU per process, so this job runs on the CPU "
                  "with gloo", flush=True)
        device = torch.device("cpu")
        dist.init_process_group("gloo")                    # CPUs talk through gloo
    return rank, world_size, device


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    rank, world_size, device = setup()
    if args.global_batch % world_size:
        raise SystemExit(f"--global_batch {args.global_batch} must divide by "
                         f"{world_size} processes")
    data = torch.load(args.data, weights_only=True)
    dtype = getattr(torch, args.dtype)
    dataset = TensorDataset(data["X"].to(dtype), data["y"])
    # Each process sees its own 1/world_size of every epoch's shuffled order.
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=args.seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=args.global_batch // world_size,
                        sampler=sampler, drop_last=True)

    # same initial weights everywhere (DDP also broadcasts rank 0's)
    torch.manual_seed(args.seed)
    model = build_model(args.hidden).to(device, dtype)
    model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    log = [] if rank == 0 else None
    start, step = time.perf_counter(), 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every process
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()       # DDP averages the gradients over all processes here
            optimizer.step()
            step += 1
            if step % args.log_every == 0:
                mean_loss = loss.detach().clone()
                # every rank must join a collective, not only rank 0
                dist.all_reduce(mean_loss)
                if rank == 0:
                    log.append({"step": step, "loss": mean_loss.item() / world_size})
                    print(f"step {step}: loss {log[-1]['loss']:.4f}", flush=True)
    seconds = time.perf_counter() - start

    if rank == 0:  # one process writes; the others would write the very same weights
        args.out.mkdir(parents=True, exist_ok=True)
        torch.save(model.module.state_dict(), args.out / "model.pt")
        summary = {"world_size": world_size, "steps": step, "train_seconds": seconds,
                   "backend": dist.get_backend(), "device": str(device), "log": log}
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"{world_size} process(es), backend {dist.get_backend()}: "
              f"{step} steps in {seconds:.2f} s")
    dist.barrier()  # nobody leaves before the checkpoint is written
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""From a ``chainrule train`` run to PyTorch DDP and ONNX Runtime, checking each hand-off on the way.

    chainrule train --dataset digits --epochs 3 --out runs/digits-mlp
    python examples/scale_out.py runs/digits-mlp --epochs 2

writes into ``runs/digits-mlp/scale-out/`` (or ``--out``):

1. ``model.pt``: the chainrule weights as a torch state dict (``torch.load(path, weights_only=True)``);
2. ``ddp.pt``: the same model after ``--epochs`` epochs of ``DistributedDataParallel`` training on
   ``--world-size`` local processes (gloo on CPU, ``--backend nccl`` with one GPU per process). The first
   step's loss on every rank must equal chainrule's loss for the same batch and weights, the averaged
   gradient chainrule's, and all ranks must end with identical weights;
3. ``model.onnx``: the DDP-trained model brought back with ``from_torch`` and exported; a batch run in
   ONNX Runtime must match chainrule's outputs;
4. ``explain.txt`` and ``graph.dot``: ``cr.explain`` and ``viz.to_dot`` of one example's loss under the
   DDP-trained weights (what the big run learned, in the student's tools).

Every check raises ``AssertionError`` with the numbers when it fails. The functions are importable
(``tests/interop/test_scale_out.py`` runs them); the DDP workers always end: the rendezvous and every
collective have a timeout, and the parent terminates (then kills) any process still alive when
``timeout`` seconds have passed or when anything fails.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as TF
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import chainrule as cr
from chainrule import viz
from chainrule.cli._common import CLIError
from chainrule.cli.train import TrainConfig, build_model, evaluate, load_data
from chainrule.cli.train_checkpoint import CHECKPOINT, MODEL, read_checkpoint
from chainrule.interop import from_torch, to_torch
from chainrule.nn import functional as F

RTOL, ATOL = 1e-5, 1e-5  # float32: the two libraries sum in different orders


# ---------------------------------------------------------------------------------------------- loading
@dataclass
class Run:
    """A ``chainrule train`` run rebuilt: the model with its weights, the data, and what trained it."""

    model: Any
    config: TrainConfig
    data: Any
    optimizer_state: dict[str, Any]
    layout: str  # "combined" (one model.safetensors) or "split" (model.safetensors + checkpoint.safetensors)


def load_run(path: str | os.PathLike) -> Run:
    """Rebuild a run from either checkpoint layout of ``chainrule train``.

    Runs write ``model.safetensors`` (a plain state dict) next to ``checkpoint.safetensors`` (optimizer,
    config, history, epoch); runs of chainrule 0.1 put everything in ``model.safetensors`` under the keys
    ``model``, ``optimizer``, ``config``, ``history`` and ``epoch``.
    ``path`` is the run folder or either file. The checkpoint is read and checked by the same code as
    ``chainrule train --resume``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no chainrule train run at {str(path)!r}")
    folder = path if path.is_dir() else path.parent
    if not (folder / MODEL).is_file():
        raise FileNotFoundError(f"{str(folder / MODEL)!r} not found: is {str(path)!r} a chainrule train run?")
    split = (folder / CHECKPOINT).is_file()
    if not split and not _is_combined(folder / MODEL):
        raise ValueError(
            f"{str(folder / MODEL)!r} holds only weights and {str(folder / CHECKPOINT)!r} is missing: the "
            "model's architecture is in that file's config"
        )
    try:
        checkpoint = read_checkpoint(folder / (CHECKPOINT if split else MODEL))
    except CLIError as error:
        raise ValueError(str(error)) from None
    data = load_data(checkpoint.config)
    model = build_model(checkpoint.config, data)
    model.load_state_dict(checkpoint.model)
    return Run(model, checkpoint.config, data, checkpoint.optimizer, "split" if split else "combined")


def _is_combined(model_file: Path) -> bool:
    """Whether ``model_file`` is the old one-file layout (model, optimizer and config under their keys)."""
    stored = cr.load(model_file)
    return isinstance(stored, dict) and {"model", "optimizer", "config"} <= stored.keys()


# ---------------------------------------------------------------------------------------------- to torch
def save_torch_state(model: Any, path: str | os.PathLike) -> Any:
    """Write ``to_torch(model).state_dict()`` to ``path``; return the torch module."""
    torch_model = to_torch(model)
    torch.save(torch_model.state_dict(), path)
    return torch_model


def torch_optimizer(name: str, params: Any, lr: float, state: dict[str, Any] | None = None) -> Any:
    """The torch optimizer ``chainrule train`` used (``name`` from its config), with chainrule's state
    (moments, step counts) loaded when given, so training continues where chainrule stopped."""
    if name == "sgd":
        optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9)
    elif name in ("adam", "adamw"):
        optimizer = (torch.optim.Adam if name == "adam" else torch.optim.AdamW)(params, lr=lr)
    else:
        raise ValueError(f"no torch optimizer for {name!r} (expected sgd, adam or adamw)")
    if state and state.get("state"):
        optimizer.load_state_dict(_torch_optimizer_state(state, lr))
    return optimizer


def _torch_optimizer_state(state: dict[str, Any], lr: float) -> dict[str, Any]:
    """chainrule's optimizer state dict has torch's layout; only the values change type."""

    def value(key: str, v: Any) -> Any:
        if key == "step":  # torch keeps the step count as a float tensor
            return torch.tensor(float(v))
        if isinstance(v, cr.Tensor):
            return torch.from_numpy(np.array(v.numpy()))
        return v

    per_param = {int(i): {k: value(k, v) for k, v in s.items()} for i, s in state["state"].items()}
    groups = [{**g, "lr": lr, "params": list(g["params"])} for g in state["param_groups"]]
    return {"state": per_param, "param_groups": groups}


# ---------------------------------------------------------------------------------------------- DDP
@dataclass
class Job:
    """What each DDP process needs (pickled to it by ``mp.spawn``)."""

    model: Any  # a torch module; every process copies it, DDP broadcasts rank 0's weights
    x: Any
    y: Any
    optimizer: str
    optimizer_state: dict[str, Any]
    lr: float
    batch_size: int  # per process: the global batch is batch_size * world_size
    epochs: int
    seed: int
    world_size: int
    backend: str
    port: int
    out: str
    timeout: float


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, job: Job) -> None:
    """One DDP process: train, record the first step, save the final weights as ``rank{rank}.pt``."""
    torch.set_num_threads(1)  # the processes share the machine's cores
    dist.init_process_group(
        job.backend,
        init_method=f"tcp://127.0.0.1:{job.port}",
        rank=rank,
        world_size=job.world_size,
        timeout=timedelta(seconds=job.timeout),
    )
    try:
        device = torch.device(f"cuda:{rank}") if job.backend == "nccl" else torch.device("cpu")
        # mp.spawn hands every process the same shared memory for the job's tensors: without this copy all
        # ranks would step one set of weights at once (a race that silently breaks the replicas' lockstep).
        model = copy.deepcopy(job.model).to(device).train()
        ddp = DistributedDataParallel(model, device_ids=[rank] if device.type == "cuda" else None)
        optimizer = torch_optimizer(job.optimizer, ddp.parameters(), job.lr, job.optimizer_state)
        dataset = TensorDataset(job.x, job.y, torch.arange(len(job.y)))  # row numbers, for the checks
        sampler = DistributedSampler(
            dataset, job.world_size, rank, shuffle=True, seed=job.seed, drop_last=True
        )
        loader = DataLoader(dataset, batch_size=job.batch_size, sampler=sampler)
        first: dict[str, Any] | None = None
        losses = []
        for epoch in range(job.epochs):
            sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
            total = 0.0
            for xb, yb, ib in loader:
                optimizer.zero_grad()
                loss = TF.cross_entropy(ddp(xb.to(device)), yb.to(device))
                loss.backward()  # DDP averages the gradients over the processes here
                if first is None:
                    grads = {n: p.grad.detach().cpu().clone() for n, p in model.named_parameters()}
                    first = {"rows": ib, "loss": loss.detach().cpu(), "grads": grads}
                optimizer.step()
                total += loss.item()
            losses.append(total / len(loader))
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save({"first": first, "state": state, "losses": losses}, Path(job.out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _stop(processes: list[Any]) -> None:
    """Terminate, then kill, whatever is still running."""
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join(5)


def spawn(job: Job) -> list[dict[str, Any]]:
    """Run ``job`` on ``job.world_size`` processes; return each rank's record. Never leaves a process
    behind: on a timeout or any error every process still alive is stopped."""
    context = mp.spawn(_worker, args=(job,), nprocs=job.world_size, join=False, daemon=True)
    deadline = time.monotonic() + job.timeout
    try:
        while not context.join(timeout=max(0.1, deadline - time.monotonic()), grace_period=5):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"DDP training did not finish within {job.timeout:g} s")
    finally:
        _stop(context.processes)
    return [torch.load(Path(job.out) / f"rank{r}.pt", weights_only=True) for r in range(job.world_size)]


def ddp_train(run: Run, epochs: int, world_size: int = 2, backend: str = "gloo",
              timeout: float = 120.0) -> tuple[Any, list[dict[str, Any]]]:  # fmt: skip
    """Continue ``run``'s training in torch with DistributedDataParallel; return (trained torch module,
    per-rank records). The global batch is the run's batch size, split over the processes."""
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    if backend == "nccl" and torch.cuda.device_count() < world_size:
        raise RuntimeError(f"nccl needs one GPU per process: {world_size} processes, "
                           f"{torch.cuda.device_count()} GPUs")  # fmt: skip
    if run.config.batch_size % world_size:
        raise ValueError(f"batch size {run.config.batch_size} does not split over {world_size} processes")
    torch_model = to_torch(run.model)
    with tempfile.TemporaryDirectory(prefix="ddp-") as out:
        job = Job(
            model=torch_model,
            x=torch.from_numpy(np.array(run.data.x_train.numpy())),
            y=torch.from_numpy(np.array(run.data.y_train.numpy())),
            optimizer=run.config.optimizer,
            optimizer_state=run.optimizer_state,
            lr=run.config.lr,
            batch_size=run.config.batch_size // world_size,
            epochs=epochs,
            seed=run.config.seed,
            world_size=world_size,
            backend=backend,
            port=free_port(),
            out=out,
            timeout=timeout,
        )
        records = spawn(job)
    torch_model.load_state_dict(records[0]["state"])
    return torch_model, records


def check_first_step(model: Any, x: Any, y: Any, records: list[dict[str, Any]]) -> float:
    """Each rank's first loss equals chainrule's on the same rows with the same weights, and DDP's averaged
    gradient equals the mean of chainrule's per-rank gradients. Returns the largest difference seen."""
    model.train()
    worst = 0.0
    grads: dict[str, np.ndarray] = {}
    for rank, record in enumerate(records):
        rows = record["first"]["rows"].numpy()
        model.zero_grad()
        loss = F.cross_entropy(model(x[rows]), y[rows])
        loss.backward()
        ours, theirs = float(loss.item()), float(record["first"]["loss"])
        assert abs(ours - theirs) <= ATOL + RTOL * abs(ours), (
            f"rank {rank}: DDP loss {theirs}, chainrule {ours}"
        )
        worst = max(worst, abs(ours - theirs))
        for name, p in model.named_parameters():
            grads[name] = grads.get(name, 0) + p.grad.numpy() / len(records)
    model.zero_grad()
    for name, expected in grads.items():
        got = records[0]["first"]["grads"][name].numpy()
        np.testing.assert_allclose(
            got, expected, rtol=1e-4, atol=1e-5, err_msg=f"averaged gradient of {name}"
        )
        worst = max(worst, float(np.max(np.abs(got - expected))))
    return worst


def check_ranks_agree(records: list[dict[str, Any]]) -> None:
    """Every rank ends with exactly rank 0's weights (DDP keeps the replicas in lockstep)."""
    for rank, record in enumerate(records[1:], start=1):
        for name, value in records[0]["state"].items():
            assert torch.equal(value, record["state"][name]), f"rank {rank} differs from rank 0 in {name}"


# ---------------------------------------------------------------------------------------------- serving
def check_onnx(model: Any, x: Any, path: str | os.PathLike, batch: int = 64) -> float:
    """Export ``model`` to ONNX, run ``x`` through ONNX Runtime in batches of ``batch`` rows (the last one
    shorter), compare with chainrule; return the largest difference."""
    import onnxruntime  # noqa: PLC0415 - only this step needs it

    model.eval()
    cr.onnx.export(model, x[:8], path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = x.numpy()
    served = np.concatenate(
        [session.run(None, {"input": rows[i : i + batch]})[0] for i in range(0, len(rows), batch)]
    )
    with cr.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(served, expected, rtol=RTOL, atol=ATOL, err_msg="ONNX Runtime vs chainrule")
    return float(np.max(np.abs(served - expected)))


# ---------------------------------------------------------------------------------------------- back
def inspect_in_chainrule(torch_model: Any, x: Any, y: Any) -> tuple[Any, str]:
    """``from_torch`` the trained model; return ``cr.explain`` and ``viz.to_dot`` of one example's loss."""
    model = from_torch(torch_model).eval()
    names = {p: name for name, p in model.named_parameters()}  # "0.weight", not x0
    loss = F.cross_entropy(model(x[:1]), y[:1])
    return cr.explain(loss, max_elements=4, names=names), viz.to_dot(loss, max_elements=2, names=names)


# ---------------------------------------------------------------------------------------------- main
def scale_out(run_path: str | os.PathLike, out: str | os.PathLike | None = None, epochs: int = 2,
              world_size: int = 2, backend: str = "gloo", timeout: float = 120.0,
              log: Any = print) -> dict[str, Any]:  # fmt: skip
    """All four steps; returns the numbers it checked (also written to ``summary.json``)."""
    run = load_run(run_path)
    folder = Path(run_path) if Path(run_path).is_dir() else Path(run_path).parent
    out = Path(out) if out is not None else folder / "scale-out"
    out.mkdir(parents=True, exist_ok=True)
    log(f"loaded {run.config.model} on {run.config.dataset} ({run.layout} checkpoint)")

    save_torch_state(run.model, out / "model.pt")
    torch.load(out / "model.pt", weights_only=True)
    log(f"wrote {out / 'model.pt'} (torch.load(..., weights_only=True) reads it)")

    started = time.perf_counter()
    torch_model, records = ddp_train(run, epochs, world_size, backend, timeout)
    first = check_first_step(run.model, run.data.x_train, run.data.y_train, records)
    check_ranks_agree(records)
    torch.save(torch_model.state_dict(), out / "ddp.pt")
    losses = records[0]["losses"]
    log(f"DDP: {world_size} x {backend}, {epochs} epochs in {time.perf_counter() - started:.1f}s, rank-0 "
        f"epoch losses {', '.join(f'{v:.4f}' for v in losses)}; first step matches chainrule "
        f"(max diff {first:.1e}); ranks agree")  # fmt: skip

    trained = from_torch(torch_model)
    onnx_diff = check_onnx(trained, run.data.x_test, out / "model.onnx")
    test_loss, test_acc = evaluate(trained, run.data.x_test, run.data.y_test)
    log(
        f"ONNX Runtime matches chainrule on {len(run.data.x_test)} test rows (max diff {onnx_diff:.1e}); "
        f"test accuracy {test_acc:.3f}"
    )

    report, dot = inspect_in_chainrule(torch_model, run.data.x_test, run.data.y_test)
    (out / "explain.txt").write_text(str(report) + "\n", encoding="utf-8")
    (out / "graph.dot").write_text(dot, encoding="utf-8")
    log(f"wrote {out / 'explain.txt'} and {out / 'graph.dot'}")
    summary = {
        "layout": run.layout, "epochs": epochs, "world_size": world_size, "backend": backend,
        "ddp_epoch_losses": losses, "first_step_max_diff": first, "onnx_max_diff": onnx_diff,
        "test_loss": test_loss, "test_accuracy": test_acc,
    }  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a chainrule train run folder, or its model/checkpoint .safetensors file")
    parser.add_argument("--out", help="output folder (default RUN/scale-out)")
    parser.add_argument("--epochs", type=int, default=2, help="DDP epochs (default 2)")
    parser.add_argument("--world-size", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--backend", choices=("gloo", "nccl"), default="gloo")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before DDP is stopped")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.world_size < 1 or args.timeout <= 0:
        parser.error("--epochs, --world-size and --timeout must be positive")
    try:
        scale_out(args.run, args.out, args.epochs, args.world_size, args.backend, args.timeout)
    except (OSError, ValueError, RuntimeError, CLIError) as error:  # a failed check (AssertionError) is loud
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Corpus: Dataset / DataLoader loops, with weights copied across so the numbers compare."""

from __future__ import annotations

import copy

import numpy as np
from corpus_harness import Lib, documented, outcome, program
from corpus_training import params, regression_data, seeded


@program
def dataloader_training_loop(lib: Lib) -> dict:
    xs, ys = regression_data(n=10, seed=8)
    ds = lib.data.TensorDataset(lib.arr(xs), lib.arr(ys))
    loader = lib.data.DataLoader(ds, batch_size=4)
    model = seeded(lib, lib.nn.Linear(3, 1))
    opt = lib.optim.SGD(model.parameters(), lr=0.05)
    losses, sizes = [], []
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            loss = lib.F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            sizes.append(tuple(xb.shape))
    return {"losses": losses, "sizes": sizes, "len": len(loader), **params(model)}


@program
def dataloader_drop_last_and_len(lib: Lib) -> dict:
    ds = lib.data.TensorDataset(lib.arr(np.arange(10.0)), lib.tensor(np.arange(10)))
    loader = lib.data.DataLoader(ds, batch_size=3, drop_last=True)
    batches = [(x, y) for x, y in loader]
    return {"len": len(loader), "batches": batches, "ds_len": len(ds), "item": ds[4]}


@program
def custom_dataset_with_collate(lib: Lib) -> dict:
    class Squares(lib.data.Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int):  # noqa: ANN204
            return lib.arr([float(i), float(i * i)]), i % 2

    loader = lib.data.DataLoader(Squares(), batch_size=2)
    batches = list(loader)
    return {"batches": batches, "label_dtype": batches[0][1].dtype}


@program
def dataloader_fixed_permutation_sampler(lib: Lib) -> dict:
    order = [3, 0, 4, 1, 2]
    ds = lib.data.TensorDataset(lib.arr(np.arange(5.0) * 10))
    loader = lib.data.DataLoader(ds, batch_size=2, sampler=order)
    return {"batches": [b[0] for b in loader]}


@program
def dataloader_dict_samples(lib: Lib) -> dict:
    class D(lib.data.Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> dict:
            return {"x": lib.arr([float(i)]), "y": lib.tensor(i)}

    (batch,) = list(lib.data.DataLoader(D(), batch_size=3))
    return {"x": batch["x"], "y": batch["y"], "keys": sorted(batch)}


@program
def dataloader_bad_arguments(lib: Lib) -> dict:
    ds = lib.data.TensorDataset(lib.arr(np.zeros(4)))
    return {
        "batch0": outcome(lambda: lib.data.DataLoader(ds, batch_size=0)),
        # torch asserts (AssertionError, gone under ``python -O``); chainrule raises ValueError (promises.md)
        "mismatch": documented(
            lib,
            outcome(lambda: lib.data.TensorDataset(lib.arr(np.zeros(4)), lib.arr(np.zeros(3)))),
            torch="AssertionError",
            chainrule="ValueError",
        ),
        "sampler_and_shuffle": outcome(lambda: lib.data.DataLoader(ds, sampler=[0, 1], shuffle=True)),
    }


@program
def subset_and_random_split_sizes(lib: Lib) -> dict:
    ds = lib.data.TensorDataset(lib.arr(np.arange(10.0)))
    sub = lib.data.Subset(ds, [9, 1, 4])
    a, b = lib.data.random_split(ds, [7, 3])
    c, d = lib.data.random_split(ds, [0.6, 0.4])
    return {"sub": [sub[i][0] for i in range(len(sub))], "sizes": [len(a), len(b), len(c), len(d)]}


@program
def evaluation_loop_accuracy(lib: Lib) -> dict:
    rng = np.random.default_rng(9)
    xs = rng.standard_normal((12, 4))
    labels = (xs[:, 0] > 0).astype(np.int64)
    loader = lib.data.DataLoader(lib.data.TensorDataset(lib.arr(xs), lib.tensor(labels)), batch_size=5)
    model = seeded(lib, lib.nn.Linear(4, 2))
    model.eval()
    correct, total, losses = 0, 0, []
    with lib.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            losses.append(lib.F.cross_entropy(logits, yb, reduction="sum").item())
            correct += (logits.argmax(dim=1) == yb).sum().item()
            total += yb.shape[0]
    return {"acc": correct / total, "correct": correct, "losses": losses}


@program
def tensor_dataset_slicing_and_row_iteration(lib: Lib) -> dict:
    x = lib.arr(np.arange(12.0).reshape(4, 3))
    y = lib.tensor(np.array([0, 1, 0, 1]))
    ds = lib.data.TensorDataset(x, y)
    rows = [row.sum() for row in x]
    pairs = [(float(a.sum()), int(b)) for a, b in zip(x, y)]
    return {"slice": ds[1:3], "rows": rows, "pairs": pairs, "len": len(x), "tensors": len(ds.tensors)}


@program
def optimizer_state_dict_round_trip(lib: Lib) -> dict:
    w = lib.arr([1.0, -1.0], requires_grad=True)
    opt = lib.optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
    sd = copy.deepcopy(opt.state_dict())  # a checkpoint (torch's load_state_dict may alias the saved tensors)
    w2 = lib.arr(w.detach().numpy().copy(), requires_grad=True)
    opt2 = lib.optim.Adam([w2], lr=0.5)
    opt2.load_state_dict(sd)
    for o, p in ((opt, w), (opt2, w2)):
        o.zero_grad()
        (p**2).sum().backward()
        o.step()
    return {
        "keys": sorted(sd),
        "group": {
            k: sd["param_groups"][0][k] for k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
        },
        "state_keys": sorted(sd["state"][0]),
        "w": w,
        "w2": w2,
        "lr2": opt2.param_groups[0]["lr"],
    }


@program
def manual_lr_change_mid_training(lib: Lib) -> dict:
    w = lib.arr([2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.01)
    trace = []
    for step in range(6):
        if step == 3:
            for g in opt.param_groups:
                g["lr"] = 0.01
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
        trace.append(w.item())
    return {"trace": trace}


@program
def default_collate_of_mixed_samples(lib: Lib) -> dict:
    class D(lib.data.Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> tuple:
            return np.array([i, i + 0.5]), i, bool(i % 2), f"s{i}", (lib.arr([float(i)]), {"k": i})

    arr, ints, flags, names, (nested, inner) = next(iter(lib.data.DataLoader(D(), batch_size=3)))
    return {"arr": arr, "ints": ints, "flags": flags, "names": names, "nested": nested, "inner": inner}


@program
def dataloader_collate_fn_and_batch_sampler(lib: Lib) -> dict:
    ds = lib.data.TensorDataset(lib.arr(np.arange(6.0)), lib.tensor(np.arange(6)))

    def collate(batch: list) -> tuple:
        xs, ys = zip(*batch)
        return lib.stack(xs) * 10, list(ys)

    by_fn = list(lib.data.DataLoader(ds, batch_size=4, collate_fn=collate))
    by_sampler = [b[0] for b in lib.data.DataLoader(ds, batch_sampler=[[5, 0], [1, 2, 3]])]
    none_batch = [x for x, _ in lib.data.DataLoader(ds, batch_size=None)][:2]
    epochs = [[b[0].sum().item() for b in lib.data.DataLoader(ds, batch_size=4)] for _ in range(2)]
    return {"by_fn": by_fn, "by_sampler": by_sampler, "none_batch": none_batch, "epochs": epochs}


@program
def concat_dataset_indexing(lib: Lib) -> dict:
    a = lib.data.TensorDataset(lib.arr(np.arange(3.0)))
    b = lib.data.TensorDataset(lib.arr(np.arange(10.0, 12.0)))
    both = lib.data.ConcatDataset([a, b])
    return {
        "len": len(both),
        "items": [both[i][0] for i in range(len(both))],
        "neg": both[-1],
        "sizes": both.cumulative_sizes,
    }


@program
def batch_sampler_refuses_batch_size(lib: Lib) -> dict:
    ds = lib.data.TensorDataset(lib.arr(np.arange(4.0)))
    loader = lib.data.DataLoader(ds, batch_sampler=[[0, 1], [2], [3]])
    return {
        "len": len(loader),
        "with_bs": outcome(lambda: lib.data.DataLoader(ds, batch_size=2, batch_sampler=[[0]])),
        "with_shuffle": outcome(lambda: lib.data.DataLoader(ds, shuffle=True, batch_sampler=[[0]])),
    }


@program
def dataloader_worker_options_as_in_tutorials(lib: Lib) -> dict:
    ds = lib.data.TensorDataset(lib.arr(np.arange(6.0)))

    def total(**kwargs) -> float:  # noqa: ANN003
        return sum(b[0].sum().item() for b in lib.data.DataLoader(ds, batch_size=4, **kwargs))

    return {
        # built, not iterated (torch would start worker processes)
        "workers": len(
            lib.data.DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True, prefetch_factor=2)
        ),
        "init_fn": total(worker_init_fn=lambda worker_id: None, timeout=0),
        "persistent_without_workers": outcome(lambda: total(persistent_workers=True)),
        "prefetch_without_workers": outcome(lambda: total(prefetch_factor=2)),
        "negative_timeout": outcome(lambda: total(timeout=-1)),
    }

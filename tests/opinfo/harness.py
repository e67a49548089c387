"""Run PyTorch's OpInfo samples (``op_db``) through chainrule and compare with torch itself.

One *entry* is one OpInfo (``name`` plus ``variant_test_name``, e.g. ``div.floor_rounding``). It is *mapped*
when chainrule has the op under the OpInfo's name or one of its aliases: ``chainrule.<name>``, a Tensor
method, a dunder, ``chainrule.nn.functional.<name>``, ``chainrule.linalg.<name>`` (and ``special``/``fft``
once chainrule has them). A *case* is (check, entry, sample id) with four checks:

* ``values``: float64 sample; outputs (count, shapes, values, then dtypes) and the gradients of every input
  that requires grad for a seeded random cotangent on every differentiable output;
* ``gradgrad``: one more VJP through those gradients (``create_graph=True``), on entries whose OpInfo says
  ``supports_gradgrad``;
* ``variants``: the Tensor method, the Python operator and every alias chainrule also has, forward only;
* ``float32``: a float32 sample; values at float32 tolerances and the output dtypes.

A failing case raises one ``Failure`` subclass, which names its category; a sample that cannot apply here
(complex, sparse, a generator, ``out=``) raises ``SkipSample`` with the reason. Sample ids are ``s<i>`` for
``op.sample_inputs`` and ``r<i>`` for ``op.reference_inputs`` (deep runs only). Samples are generated under
a seed derived from the entry's name, so every process (pytest-xdist workers, the summary script) sees the
same ones.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr

#: Samples per entry and dtype in ``make test``; ``make test-deep`` runs all of them plus reference inputs.
DEFAULT_SAMPLES = 3
CHECKS = ("values", "gradgrad", "variants", "float32")


class SkipSample(Exception):
    """This sample cannot apply to chainrule (complex, sparse, generator...): skipped, counted, listed."""


class Failure(AssertionError):
    category = "failure"


class Mismatch(Failure):
    """Silently different numbers or shapes in the forward: the worst kind."""

    category = "mismatch"


class GradMismatch(Failure):
    """Different gradients (or second-order gradients), or an output that should be differentiable is not."""

    category = "grad mismatch"


class DtypeMismatch(Failure):
    """Right values, different output dtype."""

    category = "dtype"


class Raises(Failure):
    """chainrule raises where torch does not."""

    category = "raises"


#: In the order the known-failure list and the summary give them: silent wrong numbers first.
CATEGORIES: dict[str, type[Failure]] = {
    c.category: c for c in (Mismatch, GradMismatch, DtypeMismatch, Raises)
}


# ---------------------------------------------------------------------------- loading op_db
def unavailable() -> str | None:
    """Why OpInfo cannot run here, or None when torch's testing internals import."""
    try:
        import expecttest  # noqa: F401, PLC0415
        import torch  # noqa: F401, PLC0415
        from torch.testing._internal import common_methods_invocations  # noqa: F401, PLC0415
    except Exception as e:  # ImportError, or torch's internals changed shape
        why = f"{type(e).__name__}: {e}"
        return f"torch's OpInfo database is unavailable ({why}); pip install torch expecttest"
    return None


def key_of(op: Any) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


@functools.cache
def op_db() -> dict[str, Any]:
    """Every OpInfo entry by key; imported once per process (it takes seconds)."""
    from torch.testing._internal.common_methods_invocations import op_db as db  # noqa: PLC0415

    return {key_of(op): op for op in db}


# ---------------------------------------------------------------------------- mapping to chainrule
@dataclass(frozen=True)
class Entry:
    key: str
    op: Any = field(repr=False)  # the OpInfo
    fn: Callable[..., Any] = field(repr=False)  # called as fn(sample.input, *sample.args, **sample.kwargs)
    spelling: str  # how chainrule names it: "chainrule.exp", "Tensor.view", "F.relu"...
    variants: tuple[Variant, ...] = field(repr=False, default=())


def _namespace(prefix: str) -> Any:
    """``chainrule.nn.functional`` for "nn.functional", ``chainrule.linalg`` for "linalg"; None if absent."""
    import importlib  # noqa: PLC0415

    try:
        return importlib.import_module(f"chainrule.{prefix}")
    except ImportError:
        return None


def _is_op(obj: Any) -> bool:
    """A callable op, not a dtype (``chainrule.double`` is numpy's float64), class or module."""
    return callable(obj) and not isinstance(obj, type) and not inspect.ismodule(obj)


def lookup(name: str) -> tuple[str, Callable[..., Any]] | None:
    """chainrule's callable for a torch name, with how chainrule spells it, or None."""
    if name.startswith("_") and not name.startswith("__"):
        return None  # torch's private ops (_softmax_backward_data...)
    if name.startswith("__"):
        if name in vars(cr.Tensor):
            return f"Tensor.{name}", getattr(cr.Tensor, name)
        return None
    if "." in name:
        prefix, _, leaf = name.rpartition(".")
        space = _namespace(prefix)
        fn = getattr(space, leaf, None) if space is not None else None
        short = "F" if prefix == "nn.functional" else f"chainrule.{prefix}"
        return (f"{short}.{leaf}", fn) if _is_op(fn) and not leaf.startswith("_") else None
    fn = getattr(cr, name, None)
    if _is_op(fn):
        return f"chainrule.{name}", fn
    static = inspect.getattr_static(cr.Tensor, name, None)
    if isinstance(static, property):
        return f"Tensor.{name}", lambda x: getattr(x, name)
    if static is not None and callable(static) and not name.startswith("_"):
        return f"Tensor.{name}", getattr(cr.Tensor, name)
    return None


def _names(op: Any) -> list[str]:
    return [op.name, *(a.name for a in op.aliases)]


Variant = tuple[str, Callable[..., Any], Callable[..., Any]]  # (chainrule spelling, chainrule, torch)


def _variants(op: Any, used: str) -> tuple[Variant, ...]:
    """Other ways chainrule offers the same op (the Tensor method, the Python operator, other aliases), each
    with torch's counterpart: ``2.0 + 3.0`` is a float in both libraries, ``torch.add(2.0, 3.0)`` a tensor."""
    out: list[Variant] = []
    for name in _names(op):
        found = lookup(name)
        if found and found[0] != used:
            out.append((*found, op.op))
    leaf = op.name
    if op.method_variant is not None and "." not in leaf and not leaf.startswith("_"):
        method = inspect.getattr_static(cr.Tensor, leaf, None)
        spelling = f"Tensor.{leaf}"
        if callable(method) and spelling != used and not any(v[0] == spelling for v in out):
            out.append((spelling, getattr(cr.Tensor, leaf), op.method_variant))
    if op.operator_variant is not None:
        operator = op.operator_variant
        out.append((f"operator.{operator.__name__}", operator, operator))
    return tuple(out)


#: OpInfo entries whose ``op`` is a wrapper that takes the sample in another order than the torch function.
#: Each adapter calls chainrule the way the OpInfo's wrapper calls torch.
ADAPTERS: dict[str, Callable[[], Callable[..., Any]]] = {
    "einsum": lambda: lambda tensors, equation: cr.einsum(equation, tensors),
    "where": lambda: lambda x, condition, other, **kw: cr.where(condition, x, other, **kw),
    "nn.functional.embedding": lambda: lambda weight, idx, **kw: _functional().embedding(idx, weight, **kw),
    "zero_": lambda: lambda x: x.clone().zero_(),
    # torch's OpInfo calls these through wrappers that build the operands: the same wrapping for chainrule
    "linalg.pinv.singular": lambda: lambda a, b: cr.linalg.pinv(a @ b.mT),
    "linalg.lstsq.grad_oriented": lambda: lambda a, b, driver: cr.linalg.lstsq(a, b, driver=driver)[:2],
    # ---- pooling, resampling, fold, dropouts (issue 14)
    "nn.functional.embedding_bag": lambda: lambda w, idx, **kw: _functional().embedding_bag(idx, w, **kw),
    "nn.functional.triplet_margin_with_distance_loss": lambda: _triplet_with_distance,
    # issue 14, creation/random: torch's entries call the in-place Tensor methods
    "uniform": lambda: lambda x, *a, **kw: x.clone().uniform_(*a, **kw),
    "normal.in_place": lambda: lambda x, *a, **kw: x.clone().normal_(*a, **kw),
    "exponential": lambda: lambda x, *a, **kw: x.clone().exponential_(*a, **kw),
    "cauchy": lambda: lambda x, *a, **kw: x.clone().cauchy_(*a, **kw),
    "geometric": lambda: lambda x, *a, **kw: x.clone().geometric_(*a, **kw),
    "log_normal": lambda: lambda x, *a, **kw: x.clone().log_normal_(*a, **kw),
    # ---- elementwise math (issue 14): OpInfo's polygamma wrappers take (x, n); torch.polygamma takes (n, x)
    **{f"polygamma.polygamma_n_{n}": lambda: lambda x, n, **kw: cr.polygamma(n, x, **kw) for n in range(5)},
    "special.polygamma.special_polygamma_n_0": lambda: lambda x, n, **kw: cr.special.polygamma(n, x, **kw),
}


def _triplet_with_distance(
    anchor: Any, positive: Any, negative: Any, distance_function: Any = None, **kw: Any
) -> Any:
    """The samples pass torch's ``nn.PairwiseDistance()`` module: the same distance in chainrule."""
    F = _functional()  # noqa: N806
    if distance_function is not None:
        p, eps, keepdim = distance_function.norm, distance_function.eps, distance_function.keepdim
        distance_function = functools.partial(F.pairwise_distance, p=p, eps=eps, keepdim=keepdim)
    return F.triplet_margin_with_distance_loss(
        anchor, positive, negative, distance_function=distance_function, **kw
    )


#: Entries whose values are random (or, for ``empty``, undefined): only shapes and dtypes are compared, and
#: the gradients' shapes.
RANDOM = frozenset(
    (
        "empty",
        "randn",
        "randn_like",
        "rand_like",
        "randint",
        "nn.functional.dropout",
        "nn.functional.dropout2d",
        # ---- pooling, resampling, fold, dropouts (issue 14)
        "nn.functional.dropout3d",
        "nn.functional.alpha_dropout",
        "nn.functional.feature_alpha_dropout.with_train",
        # issue 14, creation/random: random draws, or undefined (empty) values
        "empty_like",
        "empty_strided",
        "empty_permuted",
        "new_empty",
        "new_empty_strided",
        "randint_like",
        "bernoulli",
        "multinomial",
        "normal",
        "normal.number_mean",
        "normal.in_place",
        "uniform",
        "exponential",
        "cauchy",
        "geometric",
        "log_normal",
    )
)


def _random(entry: Entry, sample: Any) -> bool:
    """Random values: a random op, or a sample with dropout (``sdpa(dropout_p=0.5)``)."""
    if entry.key == "nn.functional.multi_head_attention_forward":  # dropout_p is positional there
        return bool(sample.args[9]) and sample.kwargs.get("training", True)
    if entry.key == "nn.functional.rrelu":  # random slopes in training
        return bool(sample.kwargs.get("training", False))
    return entry.key in RANDOM or bool(sample.kwargs.get("dropout_p", 0))


def _functional() -> Any:
    import chainrule.nn.functional as F  # noqa: PLC0415

    return F


@functools.cache
def entries() -> dict[str, Entry]:
    """Every mapped entry, by key."""
    mapped = {}
    for key, op in op_db().items():
        if key in ADAPTERS:
            mapped[key] = Entry(key, op, ADAPTERS[key](), f"adapter for {key}")
            continue
        for name in _names(op):
            found = lookup(name)
            if found:
                spelling, fn = found
                mapped[key] = Entry(key, op, fn, spelling, _variants(op, spelling))
                break
    return mapped


# ---------------------------------------------------------------------------- samples
def _seed(text: str) -> None:
    import torch  # noqa: PLC0415

    seed = zlib.crc32(text.encode())
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


@functools.cache
def samples(key: str, dtype_name: str, deep: bool) -> tuple[tuple[str, Any], ...]:
    """(sample id, SampleInput) for one entry in float64 (requires_grad) or float32, seeded by the entry."""
    import torch  # noqa: PLC0415

    op = op_db()[key]
    dtype = getattr(torch, dtype_name)
    if dtype not in op.supported_dtypes("cpu"):
        return ()
    requires_grad = dtype_name == "float64" and op.supports_autograd
    _seed(f"{key}:{dtype_name}:samples")
    found: Iterator[Any] = op.sample_inputs("cpu", dtype, requires_grad=requires_grad)
    if not deep:
        return tuple((f"s{i}", s) for i, s in enumerate(itertools.islice(found, DEFAULT_SAMPLES)))
    out = [(f"s{i}", s) for i, s in enumerate(found)]
    if op.reference_inputs_func is not None:
        # torch's reference inputs are made without requires_grad (some make integer tensors with the
        # dtype's make_arg, which refuses requires_grad): the floating inputs and args get it here.
        _seed(f"{key}:{dtype_name}:reference")
        refs = op.reference_inputs("cpu", dtype, requires_grad=False)
        out += [(f"r{i}", _with_grad(s) if requires_grad else s) for i, s in enumerate(refs)]
    return tuple(out)


def _with_grad(sample: Any) -> Any:
    import torch  # noqa: PLC0415

    def leaf(t: Any) -> Any:
        return t.detach().requires_grad_() if t.is_floating_point() else t

    sample.input = _convert(sample.input, leaf)
    sample.args = _convert(tuple(sample.args), leaf)
    del torch
    return sample


def cases(deep: bool, keep: Callable[[str], bool] | None = None) -> list[tuple[str, str, str]]:
    """Every (check, entry key, sample id) to run, in a stable order; ``keep``: only the entries it accepts
    (their samples alone are made)."""
    out = []
    for key, entry in entries().items():
        if keep is not None and not keep(key):
            continue
        ids64 = [sid for sid, _ in samples(key, "float64", deep)]
        out += [("values", key, sid) for sid in ids64]
        if entry.op.supports_gradgrad and entry.op.supports_autograd:
            out += [("gradgrad", key, sid) for sid in ids64]
        if entry.variants:
            out += [("variants", key, sid) for sid in ids64]
        out += [("float32", key, sid) for sid, _ in samples(key, "float32", deep)]
    return out


# ---------------------------------------------------------------------------- converting a sample
def _dtypes() -> dict[Any, Any]:
    import torch  # noqa: PLC0415

    return {
        torch.float64: cr.float64,
        torch.float32: cr.float32,
        torch.float16: cr.float16,
        torch.int64: cr.int64,
        torch.int32: cr.int32,
        torch.int16: np.int16,
        torch.int8: np.int8,
        torch.uint8: np.uint8,
        torch.bool: cr.bool_,
    }


def _convert(obj: Any, tensor: Callable[[Any], Any]) -> Any:
    """``obj`` with every tensor replaced by ``tensor(t)``, recursively through lists, tuples and dicts."""
    import torch  # noqa: PLC0415

    if isinstance(obj, torch.Tensor):
        return tensor(obj)
    if isinstance(obj, (list, tuple)) and not isinstance(obj, torch.Size):
        return type(obj)(_convert(o, tensor) for o in obj) if type(obj) in (list, tuple) else obj
    if isinstance(obj, dict):
        return {k: _convert(v, tensor) for k, v in obj.items()}
    return obj


def _check_applicable(obj: Any) -> None:
    """Raise SkipSample for what chainrule cannot take: complex, sparse, unsupported dtypes, generators."""
    import torch  # noqa: PLC0415

    if isinstance(obj, torch.Tensor):
        if obj.is_complex():
            raise SkipSample("complex tensor")
        if obj.layout != torch.strided:
            raise SkipSample(f"{obj.layout} tensor")
        if obj.dtype not in _dtypes():
            raise SkipSample(f"{obj.dtype} tensor")
    elif isinstance(obj, complex):
        raise SkipSample("complex number")
    elif isinstance(obj, torch.dtype) and obj not in _dtypes():
        raise SkipSample(f"dtype argument {obj}")
    elif isinstance(obj, torch.Generator):
        raise SkipSample("generator argument")
    elif isinstance(obj, (torch.memory_format, torch.layout)):
        raise SkipSample(f"torch.{type(obj).__name__} argument (chainrule has no such object)")
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _check_applicable(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            _check_applicable(o)


def _to_chainrule(obj: Any) -> Any:
    """A torch sample argument in chainrule's terms: tensors (integer ones stay integer), dtypes, devices."""
    import torch  # noqa: PLC0415

    def tensor(t: Any) -> Any:
        out = cr.from_numpy(np.array(t.detach().numpy(), copy=True))
        return out.requires_grad_() if t.requires_grad else out

    obj = _convert(obj, tensor)
    if isinstance(obj, torch.dtype):
        return _dtypes()[obj]
    if isinstance(obj, torch.device):
        return obj.type
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, list):
        return [_to_chainrule(o) for o in obj]
    if isinstance(obj, tuple) and type(obj) is tuple:
        return tuple(_to_chainrule(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_chainrule(v) for k, v in obj.items()}
    return obj


def _fresh_torch(obj: Any) -> Any:
    """New torch leaves for one run (same strides and requires_grad), so runs never share graphs or grads."""
    return _convert(obj, lambda t: t.detach().clone().requires_grad_(t.requires_grad))


@dataclass
class Prepared:
    """One sample, as torch and as chainrule arguments."""

    th: tuple[Any, tuple[Any, ...], dict[str, Any]]
    cr: tuple[Any, tuple[Any, ...], dict[str, Any]]


def prepare(sample: Any) -> Prepared:
    if "out" in sample.kwargs:
        raise SkipSample("out= argument")
    _check_applicable([sample.input, list(sample.args), sample.kwargs])
    args, kwargs = tuple(sample.args), dict(sample.kwargs)
    th = (_fresh_torch(sample.input), _fresh_torch(args), _fresh_torch(kwargs))
    ours = (_to_chainrule(sample.input), _to_chainrule(args), _to_chainrule(kwargs))
    return Prepared(th, ours)


def _leaves(obj: Any, kind: type | tuple[type, ...]) -> list[Any]:
    """The objects of ``kind`` inside ``obj`` in a fixed order (lists, tuples, dicts recursively)."""
    if isinstance(obj, kind):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [leaf for o in obj for leaf in _leaves(o, kind)]
    if isinstance(obj, dict):
        return [leaf for o in obj.values() for leaf in _leaves(o, kind)]
    return []


# ---------------------------------------------------------------------------- comparing
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5)}


def _tolerance(*dtypes: Any) -> tuple[float, float]:
    """torch.testing.assert_close's defaults for the least precise of ``dtypes`` (float64: 1e-7, 1e-7)."""
    rtol, atol = 1e-7, 1e-7
    for d in dtypes:
        r, a = _TOLERANCES.get(str(d).removeprefix("torch."), (0.0, 0.0))
        rtol, atol = max(rtol, r), max(atol, a)
    return rtol, atol


def _as_torch(x: Any) -> Any:
    """A chainrule tensor (or number) as a torch tensor, for torch.testing.assert_close."""
    import torch  # noqa: PLC0415

    if isinstance(x, cr.Tensor):
        # np.array, not np.ascontiguousarray, which makes a 0-d array 1-d
        return torch.from_numpy(np.array(x.detach().numpy(), order="C", copy=True))
    return torch.as_tensor(np.asarray(x))


def _flat_outputs(out: Any) -> list[Any]:
    """An op's outputs as a list (a tensor, or the items of a tuple/list/namedtuple, or a plain value)."""
    if isinstance(out, (list, tuple)):
        return [leaf for o in out for leaf in _flat_outputs(o)]
    return [out]


def compare_outputs(ours: Any, theirs: Any, what: str = "output", values: bool = True) -> None:
    """Raise Mismatch / DtypeMismatch unless chainrule's outputs are torch's (count, shape, values, dtype);
    ``values=False`` (random ops) leaves the values out."""
    import torch  # noqa: PLC0415

    mine, ref = _flat_outputs(ours), _flat_outputs(theirs)
    if len(mine) != len(ref):
        raise Mismatch(f"{what}: chainrule returns {len(mine)} values, torch {len(ref)}")
    for i, (a, e) in enumerate(zip(mine, ref)):
        label = what if len(ref) == 1 else f"{what} {i}"
        if not isinstance(e, torch.Tensor):
            if isinstance(a, cr.Tensor) and a.ndim == 0:
                a = a.item()
            if isinstance(a, cr.Tensor):
                raise Mismatch(f"{label}: chainrule returns a Tensor of shape {tuple(a.shape)}, torch {e!r}")
            if a != e and not (isinstance(e, float) and np.isnan(e) and np.isnan(a)):
                raise Mismatch(f"{label}: chainrule {a!r}, torch {e!r}")
            continue
        if not isinstance(a, cr.Tensor):
            raise Mismatch(f"{label}: chainrule returns {type(a).__name__}, torch a Tensor")
        if tuple(a.shape) != tuple(e.shape):
            raise Mismatch(f"{label}: shape {tuple(a.shape)}, torch {tuple(e.shape)}")
        if values:
            _compare_values(_as_torch(a), e.detach(), label, Mismatch)
        if _dtypes().get(e.dtype) != a.dtype:
            raise DtypeMismatch(f"{label}: dtype {a.dtype}, torch {e.dtype}")


#: Entries whose outputs are defined only up to the sign of each vector (eigenvectors, singular vectors) or,
#: for a full SVD, up to a basis of the extra columns: LAPACK builds (torch's MKL, NumPy's OpenBLAS) pick
#: differently. Their values are compared after OpInfo's own ``output_process_fn_grad`` (|vectors|, the first
#: k columns, U @ Vh), as torch's tests compare them; counts, shapes and dtypes are compared as returned.
BASIS_FREE = frozenset(("linalg.eigh", "linalg.svd", "svd"))


def compare_forward(entry: Entry, sample: Any, ours: Any, theirs: Any, what: str = "output") -> None:
    """``compare_outputs`` for one sample of ``entry``: values left out for random ops, and compared in
    OpInfo's sign-free form for the ``BASIS_FREE`` decompositions."""
    values = not _random(entry, sample)
    if entry.key not in BASIS_FREE:
        compare_outputs(ours, theirs, what, values)
        return
    compare_outputs(ours, theirs, what, values=False)
    try:
        processed = sample.output_process_fn_grad(ours)
    except Exception as e:  # the OpInfo's post-processing calls a torch-only function
        raise SkipSample(f"output_process_fn_grad needs torch ({type(e).__name__})") from None
    compare_outputs(processed, sample.output_process_fn_grad(theirs), f"{what} (sign-free form)", values)


def _compare_values(a: Any, e: Any, label: str, failure: type[Failure]) -> None:
    import torch  # noqa: PLC0415

    common = torch.promote_types(a.dtype, e.dtype)
    rtol, atol = _tolerance(a.dtype, e.dtype)
    try:
        torch.testing.assert_close(a.to(common), e.to(common), rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError as err:
        summary = " ".join(str(err).split())
        raise failure(f"{label}: {summary}") from None


# ---------------------------------------------------------------------------- running one case
def _call(fn: Callable[..., Any], args: tuple[Any, tuple[Any, ...], dict[str, Any]]) -> Any:
    inp, rest, kwargs = args
    return fn(inp, *rest, **kwargs)


def _run_torch(op: Any, prepared: Prepared) -> Any:
    try:
        out = _call(op.op, prepared.th)
    except Exception as e:
        raise SkipSample(f"torch itself raises {type(e).__name__}") from None
    if out is NotImplemented:  # Tensor.__rsub__(2.0, tensor): the sample does not apply
        raise SkipSample("torch returns NotImplemented")
    return out


def _run_chainrule(fn: Callable[..., Any], args: Any, spelling: str) -> Any:
    try:
        return _call(fn, args)
    except Exception as e:
        raise Raises(f"{spelling}: {type(e).__name__}: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:160] if text else ""


def _rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(":".join(parts).encode()))


def _differentiable(op: Any, sample: Any, th_out: Any, cr_out: Any) -> tuple[list[Any], list[Any]]:
    """The outputs torch can differentiate (after OpInfo's ``output_process_fn_grad``) and chainrule's."""
    import torch  # noqa: PLC0415

    th = _flat_outputs(sample.output_process_fn_grad(th_out))
    try:
        ours = _flat_outputs(sample.output_process_fn_grad(cr_out))
    except Exception as e:  # the OpInfo's post-processing calls a torch-only function
        raise SkipSample(f"output_process_fn_grad needs torch ({type(e).__name__})") from None
    pairs = [(a, e) for a, e in zip(ours, th) if isinstance(e, torch.Tensor) and e.requires_grad]
    for i, (a, _) in enumerate(pairs):
        if not (isinstance(a, cr.Tensor) and a.requires_grad):
            raise GradMismatch(f"differentiable output {i} does not require grad in chainrule")
    return [a for a, _ in pairs], [e for _, e in pairs]


def _grads(outs: list[Any], ins: list[Any], cots: list[Any], create_graph: bool, library: str) -> list[Any]:
    """VJP of ``outs`` w.r.t. ``ins`` (zeros for unused inputs) in torch or chainrule."""
    import torch  # noqa: PLC0415

    if not outs:
        return [None] * len(ins)
    if library == "torch":
        try:
            return list(torch.autograd.grad(outs, ins, cots, allow_unused=True, create_graph=create_graph))
        except Exception as e:  # torch's own backward refuses this sample (a reference input, mostly)
            raise SkipSample(f"torch's backward raises {type(e).__name__}") from None
    try:
        return list(cr.grad(outs, ins, cots, allow_unused=True, create_graph=create_graph))
    except Exception as e:
        raise Raises(f"backward: {type(e).__name__}: {_first_line(e)}") from None


def _compare_grads(
    ours: list[Any], theirs: list[Any], ins: list[Any], what: str, values: bool = True
) -> None:
    import torch  # noqa: PLC0415

    for i, (a, e, x) in enumerate(zip(ours, theirs, ins)):
        e = torch.zeros_like(x) if e is None else e.detach()
        a = np.zeros(tuple(x.shape)) if a is None else a
        if tuple(a.shape) != tuple(e.shape):
            raise GradMismatch(f"{what} of input {i}: shape {tuple(a.shape)}, torch {tuple(e.shape)}")
        if values:
            _compare_values(_as_torch(a), e, f"{what} of input {i}", GradMismatch)


def _cotangents(outs: list[Any], rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.standard_normal(tuple(o.shape)) for o in outs]


def _vjp_pair(entry: Entry, sample: Any, create_graph: bool, case: tuple[str, ...]) -> tuple[Any, ...]:
    """Forward in both libraries, compared, then the VJP for a seeded cotangent in both."""
    import torch  # noqa: PLC0415

    prepared = prepare(sample)
    th_out = _run_torch(entry.op, prepared)
    cr_out = _run_chainrule(entry.fn, prepared.cr, entry.spelling)
    compare_forward(entry, sample, cr_out, th_out)
    th_ins = _leaves(prepared.th, torch.Tensor)
    keep = [i for i, t in enumerate(th_ins) if t.requires_grad]
    th_ins = [th_ins[i] for i in keep]
    cr_all = _leaves(prepared.cr, cr.Tensor)
    cr_ins = [cr_all[i] for i in keep]
    cr_outs, th_outs = _differentiable(entry.op, sample, th_out, cr_out)
    cots = _cotangents(th_outs, _rng(*case))
    # rounded to the output dtype by torch, then given to both: NumPy and torch round float64 -> float16 apart
    th_cots = [torch.from_numpy(c).to(o.dtype) for c, o in zip(cots, th_outs)]
    cr_cots = [cr.from_numpy(c.numpy().astype(o.dtype)) for c, o in zip(th_cots, cr_outs)]
    th_g = _grads(th_outs, th_ins, th_cots, create_graph, "torch")
    cr_g = _grads(cr_outs, cr_ins, cr_cots, create_graph, "chainrule")
    return th_ins, cr_ins, th_g, cr_g


def check_values(entry: Entry, sample: Any, case: tuple[str, ...]) -> None:
    th_ins, _, th_g, cr_g = _vjp_pair(entry, sample, False, case)
    _compare_grads(cr_g, th_g, th_ins, "gradient", values=not _random(entry, sample))


def check_gradgrad(entry: Entry, sample: Any, case: tuple[str, ...]) -> None:
    import torch  # noqa: PLC0415

    th_ins, cr_ins, th_g, cr_g = _vjp_pair(entry, sample, True, case)
    if not th_ins:
        raise SkipSample("no input requires grad")
    rng = _rng(*case, "second")
    ws = [rng.standard_normal(tuple(x.shape)) for x in th_ins]

    def second(grads: list[Any], ins: list[Any], library: str) -> list[Any]:
        """The VJP of the first gradients for the cotangents ``ws``: the gradient of sum(g * w)."""
        pairs = [(g, w) for g, w in zip(grads, ws) if g is not None and g.requires_grad]
        # rounded by torch for both libraries, as the first cotangents
        cots = [torch.from_numpy(w).to(getattr(torch, str(g.dtype).removeprefix("torch."))) for g, w in pairs]
        if library == "chainrule":
            cots = [cr.from_numpy(c.numpy()) for c in cots]
        return _grads([g for g, _ in pairs], ins, cots, False, library)

    th_gg = second(th_g, th_ins, "torch")
    cr_gg = second(cr_g, cr_ins, "chainrule")
    _compare_grads(cr_gg, th_gg, th_ins, "second-order gradient", values=not _random(entry, sample))


def check_variants(entry: Entry, sample: Any, case: tuple[str, ...]) -> None:
    ran = 0
    for spelling, fn, torch_fn in entry.variants:
        prepared = prepare(sample)
        if spelling.startswith("operator.") and prepared.cr[2]:
            continue  # a Python operator takes no keyword arguments
        try:
            th_out = _call(torch_fn, prepared.th)
        except Exception:
            continue  # torch has no such call either
        if th_out is NotImplemented:
            continue
        ours = _run_chainrule(fn, prepared.cr, spelling)
        compare_forward(entry, sample, ours, th_out, spelling)
        ran += 1
    if not ran:
        raise SkipSample("no variant applies to this sample")


def check_float32(entry: Entry, sample: Any, case: tuple[str, ...]) -> None:
    prepared = prepare(sample)
    th_out = _run_torch(entry.op, prepared)
    cr_out = _run_chainrule(entry.fn, prepared.cr, entry.spelling)
    try:
        compare_forward(entry, sample, cr_out, th_out)
    except Mismatch:
        # float32 sums in another order differ beyond assert_close's float32 tolerance on long reductions
        # (matmul, conv3d): that is a pass when chainrule is as close to the exact result as torch is.
        if not _as_accurate_as_torch(entry, sample, cr_out, th_out):
            raise
        compare_outputs(cr_out, th_out, values=False)


def _as_accurate_as_torch(entry: Entry, sample: Any, cr_out: Any, th_out: Any) -> bool:
    """Whether chainrule's float32 outputs are within twice torch's float32 error of its float64 result."""
    import torch  # noqa: PLC0415

    upcast = _convert(prepare(sample).th, lambda t: t.double() if t.dtype == torch.float32 else t)
    try:
        exact = _flat_outputs(_call(entry.op.op, upcast))
    except Exception:
        return False
    for a, e, x in zip(_flat_outputs(cr_out), _flat_outputs(th_out), exact):
        if not isinstance(e, torch.Tensor) or not e.is_floating_point() or not isinstance(a, cr.Tensor):
            continue
        if tuple(a.shape) != tuple(e.shape) or tuple(x.shape) != tuple(e.shape):
            return False
        mine = _as_torch(a).double()
        theirs, truth = e.detach().double(), x.detach().double()
        if not torch.equal(mine.isnan(), truth.isnan()):
            return False
        finite = truth.isfinite()
        err_ours = (mine - truth)[finite].abs().max().item() if finite.any() else 0.0
        err_torch = (theirs - truth)[finite].abs().max().item() if finite.any() else 0.0
        # h-fixes: nan == nan here (torch.equal says no: any nan in the output failed this check)
        same_edges = torch.equal(mine[~finite].nan_to_num(), truth[~finite].nan_to_num())
        if err_ours > 2 * err_torch or not same_edges:
            return False
    return True


_CHECKERS = {
    "values": check_values,
    "gradgrad": check_gradgrad,
    "variants": check_variants,
    "float32": check_float32,
}


def run(check: str, key: str, sid: str, deep: bool = False) -> None:
    """Run one case: returns when chainrule agrees with torch, raises SkipSample or a Failure otherwise."""
    entry = entries()[key]
    dtype_name = "float32" if check == "float32" else "float64"
    sample = dict(samples(key, dtype_name, deep))[sid]
    _CHECKERS[check](entry, sample, (check, key, sid))


# ---------------------------------------------------------------------------- in-place variants (h-inplace)
# OpInfo's ``inplace_variant`` (``Tensor.exp_``...) against chainrule's ``Tensor.<name>_``: values only,
# on the float64 samples, under no_grad in both libraries (an in-place op on a leaf that requires grad is
# refused).
def _inplace_method(entry: Entry) -> Callable[..., Any] | None:
    name = entry.op.name
    if entry.op.inplace_variant is None or "." in name or name.startswith("_"):
        return None
    method = inspect.getattr_static(cr.Tensor, f"{name}_", None)
    return getattr(cr.Tensor, f"{name}_") if callable(method) else None


def check_inplace(entry: Entry, sample: Any, case: tuple[str, ...]) -> None:
    import torch  # noqa: PLC0415

    method = _inplace_method(entry)
    if method is None:
        raise SkipSample("chainrule has no in-place method for this entry")
    prepared = prepare(sample)
    th_in, cr_in = prepared.th[0], prepared.cr[0]
    if not isinstance(th_in, torch.Tensor) or not isinstance(cr_in, cr.Tensor):
        raise SkipSample("the input is not a tensor")
    with torch.no_grad():
        th_self = th_in.detach().clone()
        try:
            th_out = entry.op.inplace_variant(th_self, *prepared.th[1], **prepared.th[2])
        except Exception as e:  # torch refuses this sample in place (broadcast self, a cast it forbids)
            raise SkipSample(f"torch's in-place variant raises {type(e).__name__}") from None
    with cr.no_grad():
        cr_self = cr_in.detach().clone()
        ours = _run_chainrule(method, (cr_self, prepared.cr[1], prepared.cr[2]), f"Tensor.{entry.op.name}_")
    if ours is not cr_self:
        raise Failure(f"Tensor.{entry.op.name}_ did not return its own tensor")
    compare_forward(entry, sample, ours, th_out, f"Tensor.{entry.op.name}_")


CHECKS = (*CHECKS, "inplace")
_CHECKERS["inplace"] = check_inplace
_cases_without_inplace = cases


def cases(deep: bool, keep: Callable[[str], bool] | None = None) -> list[tuple[str, str, str]]:  # noqa: F811
    """:func:`cases` (above), and an ``inplace`` case per float64 sample of the entries with an in-place
    form."""
    out = _cases_without_inplace(deep, keep)
    for key, entry in entries().items():
        if (keep is None or keep(key)) and _inplace_method(entry) is not None:
            out += [("inplace", key, sid) for sid, _ in samples(key, "float64", deep)]
    return out

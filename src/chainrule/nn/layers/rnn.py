"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` and their cells, with torch's parameter names and gate order.

LSTM gates are stacked (i, f, g, o) and GRU gates (r, z, n) in ``weight_ih_l{k}``/``weight_hh_l{k}``,
so a torch state dict loads unchanged. The input projection of every time step is one GEMM. An LSTM layer's
recurrence is then one Function over the whole sequence (its backward is backpropagation through time); RNN
and GRU loop over time steps, one fused cell Function per step. All are differentiable twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.layers._factory import check_dropout, check_positive, empty_param
from chainrule.nn.module import Module
from chainrule.tensor import Tensor, _new

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------- fused cells
# Each cell is ONE Function: its forward runs in NumPy, its backward too on first-order passes; when a graph
# of the backward is being built (create_graph=True) the same formulas run on tensors recomputed from inputs.
# The formulas use only + - * and the helpers passed in, so one copy serves arrays and tensors alike.
def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) in one fresh buffer (NumPy's exp is cheaper than its tanh: docs/performance.md).
    For x below about -88 (float32) exp(-x) overflows to inf and 1 / inf = 0 is the right value, so the
    callers run it under ``np.errstate(over="ignore")``."""
    y = np.negative(x)
    np.exp(y, out=y)
    y += 1
    np.reciprocal(y, out=y)
    return y


def _np_split(x: np.ndarray, n: int) -> list[np.ndarray]:
    k = x.shape[-1] // n  # equal slices: the views np.split returns, without its Python overhead
    return [x[..., i * k : (i + 1) * k] for i in range(n)]


def _tensor_split(x: Tensor, n: int) -> tuple[Tensor, ...]:
    return ops.chunk(x, n, dim=-1)


def _np_cat(xs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(xs, axis=-1)


def _tensor_cat(xs: list[Tensor]) -> Tensor:
    return ops.cat(xs, dim=-1)


def _lstm_gates(gx: Any, gh: Any, c_prev: Any, sig: Any, tanh: Any, split: Any) -> tuple[Any, ...]:
    i, f, g, o = split(gx + gh, 4)
    i, f, g, o = sig(i), sig(f), tanh(g), sig(o)
    c = f * c_prev + i * g
    return i, f, g, o, c, tanh(c)


def _lstm_grads(
    i: Any, f: Any, g: Any, o: Any, tc: Any, c_prev: Any, dh: Any, dc: Any, cat: Any
) -> tuple[Any, Any]:
    dc = dc + dh * o * (1 - tc * tc)
    dz = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)])
    return dz, dc * f


class _LSTMCell(Function):
    """(gx, gh, c) -> (h', c'): gates = gx + gh split (i, f, g, o), as torch."""

    def forward(self, gx, gh, c_prev):
        with np.errstate(over="ignore"):  # see _np_sigmoid
            i, f, g, o, c, tc = _lstm_gates(gx, gh, c_prev, _np_sigmoid, np.tanh, _np_split)
        self.saved = (i, f, g, o, tc)
        return o * tc, c

    def backward(self, dh, dc):
        gx, gh, c_prev = self.inputs
        if not _grad_state.grad_enabled:
            dz, dc_prev = _lstm_grads(*self.saved, c_prev.data, dh.data, dc.data, _np_cat)
            dz = _new(dz)
            return dz, dz, _new(dc_prev)
        i, f, g, o, _, tc = _lstm_gates(gx, gh, c_prev, ops.sigmoid, ops.tanh, _tensor_split)
        dz, dc_prev = _lstm_grads(i, f, g, o, tc, c_prev, dh, dc, _tensor_cat)
        return dz, dz, dc_prev


# ---------------------------------------------------------------------------- a whole LSTM sequence
# The time loop itself is one Function: per step it costs the recurrent GEMM and the gate arithmetic, not a
# recorded graph node or two, and its backward (backpropagation through time) computes the recurrent weight
# gradient with ONE GEMM over all steps instead of one GEMM and one accumulation per step. The loops below
# are written once against a small kit of primitives, so they run on arrays (the forward and a first-order
# backward) and on tensors (a backward that is itself recorded, for create_graph=True).
class _Kit(NamedTuple):
    sigmoid: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    split: Callable[[Any, int], Any]
    cat: Callable[[list[Any]], Any]
    stack: Callable[[list[Any]], Any]


_ARRAYS = _Kit(_np_sigmoid, np.tanh, _np_split, _np_cat, np.stack)
_TENSORS = _Kit(ops.sigmoid, ops.tanh, _tensor_split, _tensor_cat, ops.stack)


def _time_order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _lstm_scan(k: _Kit, gx: Any, h: Any, c: Any, w_hh: Any, reverse: bool) -> tuple[list[tuple], Any, Any]:
    """Run the recurrence over gx (T, B, 4H). Returns, per step, (i, f, g, o, tanh c_t, c_(t-1), h_(t-1),
    h_t), and the final (h, c)."""
    record: list[tuple] = [()] * len(gx)
    w_t = w_hh.T
    for t in _time_order(len(gx), reverse):
        i, f, g, o, c_new, tc = _lstm_gates(gx[t], h @ w_t, c, k.sigmoid, k.tanh, k.split)
        h_new = o * tc
        record[t] = (i, f, g, o, tc, c, h, h_new)
        h, c = h_new, c_new
    return record, h, c


def _lstm_bptt(
    k: _Kit, record: list[tuple], dout: Any, dh: Any, dc: Any, w_hh: Any, reverse: bool
) -> tuple[Any, Any, Any, Any]:
    """Backpropagation through time: (d gx, d h0, d c0, d w_hh) from the gradients of (out, h_n, c_n)."""
    dzs: list[Any] = [None] * len(record)
    for t in _time_order(len(record), not reverse):
        i, f, g, o, tc, c_prev, _, _ = record[t]
        dz, dc = _lstm_grads(i, f, g, o, tc, c_prev, dout[t] + dh, dc, k.cat)
        dh = dz @ w_hh
        dzs[t] = dz
    dgx = k.stack(dzs)
    h_prev = k.stack([step[6] for step in record])
    dw_hh = dgx.reshape(-1, dgx.shape[-1]).T @ h_prev.reshape(-1, h_prev.shape[-1])
    return dgx, dh, dc, dw_hh


class _LSTMSequence(Function):
    """(gx, h0, c0, w_hh) -> (out, h_n, c_n) for one layer and direction; gx = x W_ih^T + b_ih + b_hh."""

    def __init__(self, reverse: bool) -> None:
        self.reverse = reverse

    def forward(self, gx, h0, c0, w_hh):
        with np.errstate(over="ignore"):  # see _np_sigmoid
            record, h, c = _lstm_scan(_ARRAYS, gx, h0, c0, w_hh, self.reverse)
        self.record = record
        return np.stack([step[7] for step in record]), h, c

    def backward(self, dout, dh, dc):
        gx, h0, c0, w_hh = self.inputs
        if not _grad_state.grad_enabled:
            grads = _lstm_bptt(_ARRAYS, self.record, dout.data, dh.data, dc.data, w_hh.data, self.reverse)
            return tuple(_new(g) for g in grads)
        record, _, _ = _lstm_scan(_TENSORS, gx, h0, c0, w_hh, self.reverse)  # recomputed, recorded
        return _lstm_bptt(_TENSORS, record, dout, dh, dc, w_hh, self.reverse)


def _gru_gates(gx: Any, gh: Any, sig: Any, tanh: Any, split: Any) -> tuple[Any, ...]:
    x_r, x_z, x_n = split(gx, 3)
    h_r, h_z, h_n = split(gh, 3)
    r, z = sig(x_r + h_r), sig(x_z + h_z)
    return r, z, tanh(x_n + r * h_n), h_n


def _gru_grads(r: Any, z: Any, n: Any, h_n: Any, h_prev: Any, dh: Any, cat: Any) -> tuple[Any, Any, Any]:
    dn = dh * (1 - z) * (1 - n * n)
    dr = dn * h_n * r * (1 - r)
    dz = dh * (h_prev - n) * z * (1 - z)
    return cat([dr, dz, dn]), cat([dr, dz, dn * r]), dh * z


class _GRUCell(Function):
    """(gx, gh, h) -> h' with gx = W_ih x + b_ih, gh = W_hh h + b_hh split (r, z, n), as torch."""

    def forward(self, gx, gh, h_prev):
        with np.errstate(over="ignore"):  # see _np_sigmoid
            r, z, n, h_n = _gru_gates(gx, gh, _np_sigmoid, np.tanh, _np_split)
        self.saved = (r, z, n, h_n)
        return n + z * (h_prev - n)

    def backward(self, dh):
        gx, gh, h_prev = self.inputs
        if not _grad_state.grad_enabled:
            return tuple(_new(g) for g in _gru_grads(*self.saved, h_prev.data, dh.data, _np_cat))
        r, z, n, h_n = _gru_gates(gx, gh, ops.sigmoid, ops.tanh, _tensor_split)
        return _gru_grads(r, z, n, h_n, h_prev, dh, _tensor_cat)


# ---------------------------------------------------------------------------- one time step
def _rnn_step(gx: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    pre = gx + F.linear(h, w_hh, b_hh)
    return ops.relu(pre) if relu else ops.tanh(pre)


def _lstm_step(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    return _LSTMCell()(gx, F.linear(h, w_hh, b_hh), c)


def _gru_step(gx: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    return _GRUCell()(gx, F.linear(h, w_hh, b_hh), h)


def _reset_uniform(module: Module) -> None:
    """torch's recurrent init: every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    stdv = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -stdv, stdv)


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (torch's ``RNNBase``)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        check_dropout(name, dropout)
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported")
        self.mode, self.input_size, self.hidden_size, self.num_layers = (
            mode,
            input_size,
            hidden_size,
            num_layers,
        )
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(dirs):
                in_size = input_size if layer == 0 else hidden_size * dirs
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate, in_size), "weight_hh": (gate, hidden_size)}
                if bias:
                    shapes.update({"bias_ih": (gate,), "bias_hh": (gate,)})
                for key, shape in shapes.items():
                    setattr(self, key + suffix, empty_param(shape, device, dtype))
                    self._flat_weights_names.append(key + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self)

    @property
    def all_weights(self) -> list[list[Tensor]]:
        per = 4 if self.bias else 2
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i : i + per] for i in range(0, len(flat), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ running
    def _params(self, layer: int, direction: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = self._parameters.get
        return (
            get("weight_ih" + suffix),
            get("weight_hh" + suffix),
            get("bias_ih" + suffix),
            get("bias_hh" + suffix),
        )

    def _prepare(self, input: Tensor, hx: Any) -> tuple[Tensor, Any, bool]:  # noqa: A002
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(
                f"{name}: expected 2-D (unbatched) or 3-D input {layout}, got input of shape {input.shape}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        return x, hx, unbatched

    def _initial(self, hx: Any, batch: int, dtype: np.dtype, unbatched: bool, what: str) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, batch, self.hidden_size)
        if hx is None:
            return _new(backend.zeros(shape, dtype, self.weight_hh_l0.data))  # on the layer's device
        h = hx.unsqueeze(1) if unbatched and hx.ndim == 2 else hx
        if h.shape != shape:
            expected = shape if not unbatched else (shape[0], shape[2])
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {expected}, got {hx.shape}")
        return h

    def _run(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[list[Tensor]]]:
        """Run all layers and directions over x (L, N, H_in); ``states``: h0 (and c0) stacked by layer."""
        dirs = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        per_state = [ops.unbind(s, 0) for s in states]
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                idx = layer * dirs + direction
                carry = [ps[idx] for ps in per_state]
                params = self._params(layer, direction)
                out, carry = self._run_direction(layer_input, carry, params, direction == 1)
                for k, c in enumerate(carry):
                    finals[k].append(c)
                outs.append(out)
            layer_input = outs[0] if dirs == 1 else ops.cat(outs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, finals

    def _run_direction(
        self, x: Tensor, carry: list[Tensor], params: tuple, reverse: bool
    ) -> tuple[Tensor, list[Tensor]]:
        """One layer, one direction, step by step: returns the outputs (L, N, H) and the final carry."""
        w_ih, w_hh, b_ih, b_hh = params
        steps = ops.unbind(F.linear(x, w_ih, b_ih), 0)  # one GEMM for all time steps
        seq: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
        for t in _time_order(len(steps), reverse):
            carry = self._step(steps[t], carry, w_hh, b_hh)
            seq[t] = carry[0]
        return ops.stack(seq, 0), carry

    def _step(self, gx: Tensor, carry: list[Tensor], w_hh: Tensor, b_hh: Tensor | None) -> list[Tensor]:
        raise NotImplementedError

    def _forward_single(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor]:  # noqa: A002
        """The forward of ``RNN`` and ``GRU``: one hidden state ``h`` carried through time."""
        x, hx, unbatched = self._prepare(input, hx)
        h0 = self._initial(hx, x.shape[1], x.dtype, unbatched, "hx")
        out, (h_n,) = self._run(x, [h0])
        return self._finish(out, unbatched), self._stack_final(h_n, unbatched)

    def _finish(self, out: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return out.squeeze(1)
        return out.transpose(0, 1) if self.batch_first else out

    @staticmethod
    def _stack_final(finals: list[Tensor], unbatched: bool) -> Tensor:
        h = ops.stack(finals, 0)
        return h.squeeze(1) if unbatched else h


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu). Returns (output, h_n).

    >>> import chainrule as cr
    >>> rnn = cr.nn.RNN(3, 5, num_layers=2, batch_first=True)
    >>> out, h = rnn(cr.randn(4, 7, 3))
    >>> out.shape, h.shape
    ((4, 7, 5), (2, 4, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; choose 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )

    def _step(self, gx: Tensor, carry: list[Tensor], w_hh: Tensor, b_hh: Tensor | None) -> list[Tensor]:
        return [_rnn_step(gx, carry[0], w_hh, b_hh, self.nonlinearity == "relu")]

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return self._forward_single(input, hx)


class LSTM(RNNBase):
    """Long short-term memory, torch's gate order (i, f, g, o). Returns (output, (h_n, c_n)).

    >>> import chainrule as cr
    >>> lstm = cr.nn.LSTM(1, 16)
    >>> out, (h, c) = lstm(cr.randn(20, 8, 1))
    >>> out.shape, h.shape, c.shape
    ((20, 8, 16), (1, 8, 16), (1, 8, 16))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def _run_direction(
        self, x: Tensor, carry: list[Tensor], params: tuple, reverse: bool
    ) -> tuple[Tensor, list[Tensor]]:
        """The whole sequence as one Function (``onnx.export`` unrolls it over time)."""
        w_ih, w_hh, b_ih, b_hh = params
        gx = F.linear(x, w_ih, None if b_ih is None else b_ih + b_hh)  # both biases in the one input GEMM
        out, h, c = _LSTMSequence(reverse)(gx, carry[0], carry[1], w_hh)
        return out, [h, c]

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:  # noqa: A002
        x, hx, unbatched = self._prepare(input, hx)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        h0 = self._initial(None if hx is None else hx[0], x.shape[1], x.dtype, unbatched, "h_0")
        c0 = self._initial(None if hx is None else hx[1], x.shape[1], x.dtype, unbatched, "c_0")
        out, (h_n, c_n) = self._run(x, [h0, c0])
        return self._finish(out, unbatched), (
            self._stack_final(h_n, unbatched),
            self._stack_final(c_n, unbatched),
        )


class GRU(RNNBase):
    """Gated recurrent unit, torch's gate order (r, z, n). Returns (output, h_n)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )

    def _step(self, gx: Tensor, carry: list[Tensor], w_hh: Tensor, b_hh: Tensor | None) -> list[Tensor]:
        return [_gru_step(gx, carry[0], w_hh, b_hh)]

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return self._forward_single(input, hx)


# ---------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """The parameters shared by the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    _gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        check_positive(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gate = self._gates * hidden_size
        self.weight_ih = empty_param((gate, input_size), device, dtype)
        self.weight_hh = empty_param((gate, hidden_size), device, dtype)
        if bias:
            self.bias_ih = empty_param((gate,), device, dtype)
            self.bias_hh = empty_param((gate,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor, bool]:  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                f"got {input.shape}"
            )
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            h = _new(backend.zeros((x.shape[0], self.hidden_size), x.dtype, x.data))
        else:
            h = hx.unsqueeze(0) if unbatched else hx
            if h.shape != (x.shape[0], self.hidden_size):
                raise ValueError(
                    f"{name}: expected hidden state of shape {(x.shape[0], self.hidden_size)}, got {hx.shape}"
                )
        return x, h, unbatched


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU), as torch."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, unbatched = self._prepare(input, hx)
        h = _rnn_step(
            F.linear(x, self.weight_ih, self.bias_ih),
            h,
            self.weight_hh,
            self.bias_hh,
            self.nonlinearity == "relu",
        )
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    _gates = 4

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        x, h, unbatched = self._prepare(input, None if hx is None else hx[0])
        c = _new(np.zeros_like(h.data)) if hx is None else (hx[1].unsqueeze(0) if unbatched else hx[1])
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: ``h' = (1 - z) * n + z * h`` with torch's gate layout (``torch.nn.GRUCell``)."""

    _gates = 3

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, unbatched = self._prepare(input, hx)
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h

"""``detect_anomaly``: stop at the first forward or backward step that produces NaN or Inf."""

from __future__ import annotations

from chainrule.autograd.grad_mode import state

__all__ = ["detect_anomaly", "is_anomaly_enabled"]


class detect_anomaly:
    """Raise at the first forward or backward step producing NaN or Inf, naming the op and where it was made.

    >>> import chainrule as cr
    >>> with cr.detect_anomaly():
    ...     cr.tensor([-1.0], requires_grad=True).sqrt()
    Traceback (most recent call last):
    RuntimeError: Sqrt produced nan in its forward pass ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        import numpy as np  # noqa: PLC0415

        self._prev = state.anomaly
        state.anomaly = self.check_nan
        # NumPy's "invalid value" warnings would fire before the check: the RuntimeError says it all.
        self._errstate = np.errstate(all="ignore") if self.check_nan else None
        if self._errstate is not None:
            self._errstate.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._errstate is not None:
            self._errstate.__exit__(*exc)
        state.anomaly = self._prev


def is_anomaly_enabled() -> bool:
    """Whether :func:`detect_anomaly` is active (``torch.is_anomaly_enabled``)."""
    return state.anomaly

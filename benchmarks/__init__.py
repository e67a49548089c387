"""chainrule's benchmark suite: each case times chainrule against an anchor (torch, micrograd) side by side.

Run ``python -m benchmarks`` (or ``make bench``, or ``chainrule bench``); ``--quick`` for fewer repeats,
``--only NAME`` for one case, ``--json PATH`` to keep the numbers. See ``docs/performance.md``.
"""

"""Datasets that need no download: toy 2-D sets, a sine curve, the UCI digits, and an MNIST IDX reader.

All are deterministic by seed, with float32 features and int64 labels.
"""

from chainrule.datasets.digits import load_digits
from chainrule.datasets.mnist import load_mnist, read_idx, write_idx
from chainrule.datasets.sine import sine_sequences
from chainrule.datasets.toy import make_circles, make_moons, make_spiral, make_xor

__all__ = [
    "load_digits",
    "load_mnist",
    "make_circles",
    "make_moons",
    "make_spiral",
    "make_xor",
    "read_idx",
    "sine_sequences",
    "write_idx",
]

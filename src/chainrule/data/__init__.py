"""Datasets and batching with ``torch.utils.data``'s names.

>>> import chainrule as cr
>>> from chainrule.data import DataLoader, TensorDataset
>>> ds = TensorDataset(cr.randn(10, 3), cr.arange(10))
>>> xb, yb = next(iter(DataLoader(ds, batch_size=4)))
>>> xb.shape, yb.tolist()
((4, 3), [0, 1, 2, 3])
"""

from chainrule.data.dataloader import DataLoader, default_collate, default_convert
from chainrule.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]

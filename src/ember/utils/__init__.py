"""Utilities: the progress bar, ``Sequence``/``PyDataset`` data sources."""

from ember.utils.progbar import Progbar
from ember.utils.sequence import PyDataset, Sequence

__all__ = ["Progbar", "PyDataset", "Sequence"]

"""Utilities: the training progress bar."""

from ember.utils.progbar import Progbar

__all__ = ["Progbar"]

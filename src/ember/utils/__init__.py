"""Utilities: the progress bar, ``Sequence``/``PyDataset`` data sources, ``plot_history``."""

from ember.utils.model_visualization import model_to_dot, plot_model
from ember.utils.plotting import plot_history
from ember.utils.progbar import Progbar
from ember.utils.random import set_random_seed
from ember.utils.sequence import PyDataset, Sequence

__all__ = ["Progbar", "PyDataset", "Sequence", "model_to_dot", "plot_history", "plot_model", "set_random_seed"]

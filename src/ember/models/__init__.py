"""Models: ``Model`` (functional, subclassed or wrapping a torch module) and ``Sequential``."""

from ember.models.model import Model as Model
from ember.models.sequential import Sequential as Sequential
from ember.saving.saving_api import load_model as load_model

__all__ = ["Model", "Sequential", "load_model"]

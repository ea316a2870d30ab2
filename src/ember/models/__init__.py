"""Models: ``Model`` (functional, subclassed or wrapping a torch module) and ``Sequential``."""

from ember.models.model import Model as Model
from ember.models.sequential import Sequential as Sequential

__all__ = ["Model", "Sequential"]

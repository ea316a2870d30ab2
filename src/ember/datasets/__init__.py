"""Small standard datasets, downloaded once and cached (``~/.ember/datasets``)."""

from ember.datasets import mnist as mnist

__all__ = ["mnist"]

"""Turning what users pass to fit/evaluate/predict into batches of tensors."""

from ember.data.adapters import adapter_for, split_validation
from ember.data.utils import pack_x_y_sample_weight, unpack_x_y_sample_weight

__all__ = ["adapter_for", "pack_x_y_sample_weight", "split_validation", "unpack_x_y_sample_weight"]

"""Turning what users pass to fit/evaluate/predict into batches of tensors."""

from ember.data.adapters import adapter_for, class_weight_batch_fn, split_validation
from ember.data.epoch_iterator import EpochIterator
from ember.data.utils import pack_x_y_sample_weight, unpack_x_y_sample_weight

__all__ = ["EpochIterator", "adapter_for", "class_weight_batch_fn", "pack_x_y_sample_weight", "split_validation", "unpack_x_y_sample_weight"]

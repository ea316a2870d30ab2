"""Mixed precision: dtype policies and loss scaling, with Keras's names.

Example:
    >>> import ember
    >>> ember.mixed_precision.set_global_policy("mixed_bfloat16")
    >>> layer = ember.layers.Dense(4)
    >>> layer.compute_dtype, layer.variable_dtype
    ('bfloat16', 'float32')
    >>> ember.mixed_precision.set_global_policy("float32")
"""

from ember.mixed_precision.policy import DTypePolicy as DTypePolicy
from ember.mixed_precision.policy import Policy as Policy
from ember.mixed_precision.policy import dtype_policy as dtype_policy
from ember.mixed_precision.policy import global_policy as global_policy
from ember.mixed_precision.policy import set_dtype_policy as set_dtype_policy
from ember.mixed_precision.policy import set_global_policy as set_global_policy
from ember.optimizers.loss_scale_optimizer import LossScaleOptimizer as LossScaleOptimizer

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]

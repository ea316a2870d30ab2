"""`SwapEMAWeights`: evaluate with the optimizer's moving averages of the weights."""

import torch

from ember.callbacks.callback import Callback
from ember.optimizers.ema import copy_into

__all__ = ["SwapEMAWeights"]

MSG_NEEDS_EMA = (
    "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. Received: "
    "use_ema={use_ema} (optimizer {optimizer!r}). Compile with e.g. "
    "`optimizer=ember.optimizers.SGD(use_ema=True)`."
)


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's EMA weights around evaluation.

    With an optimizer created with `use_ema=True`, the optimizer keeps an
    exponential moving average of every trained weight. This callback puts
    those averages into the model before evaluation (validation in `fit`,
    `evaluate`, `predict`) and puts the trained weights back afterwards, so
    validation metrics are those of the averaged model while training goes on
    from the raw weights. The swap is done in place, on the weights' device.

    With `swap_on_epoch=True` the averages are also in the model between the
    end of one epoch and the start of the next, so callbacks placed after
    this one (e.g. `ModelCheckpoint`) see and save the averaged weights. At
    the end of the last epoch they stay (the optimizer's averages are set to
    them, so `fit`'s final `finalize_variable_values` keeps them).

    Do not change the weights or the averages in other callbacks while they
    are swapped.

    Args:
        swap_on_epoch: Also swap at epoch end / epoch begin. Defaults to
            `False`.

    Raises:
        ValueError: When the model's optimizer does not have `use_ema=True`.

    Example:
        >>> callback = SwapEMAWeights(swap_on_epoch=True)
        >>> callback.swap_on_epoch
        True
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if not getattr(optimizer, "use_ema", False) or not hasattr(optimizer, "_model_variables_moving_average"):
            raise ValueError(MSG_NEEDS_EMA.format(use_ema=getattr(optimizer, "use_ema", None), optimizer=optimizer))
        return optimizer

    def _pairs(self):
        """(weights, averages) to swap; empty before the optimizer's first update (no average yet)."""
        optimizer = self._ema_optimizer()
        averages = list(optimizer._model_variables_moving_average)
        if not averages or int(optimizer.iterations) == 0:
            return [], []
        return list(optimizer._trainable_variables), averages

    @torch.no_grad()
    def _swap_variables(self):
        variables, averages = self._pairs()
        if variables:
            saved = [v.detach().clone() for v in variables]
            copy_into(variables, averages)
            copy_into(averages, saved)

    @torch.no_grad()
    def _finalize_ema_values(self):
        """Makes the averages equal the weights now in the model (the averaged ones)."""
        variables, averages = self._pairs()
        if variables:
            copy_into(averages, variables)

    def _swap_in(self):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _swap_out(self):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_in()
            if self.params and epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        self._swap_out()

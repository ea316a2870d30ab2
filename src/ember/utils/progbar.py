"""A text progress bar in Keras's format.

On a terminal (or a notebook) the bar is redrawn in place with ``\\r``::

    782/782 ━━━━━━━━━━━━━━━━━━━━ 3s 3ms/step - loss: 0.3387 - accuracy: 0.9050

When standard output is not interactive (a log file, a pipe, CI), ``verbose=1``
writes only the finished bar, one line per bar, so logs are not flooded with
redraws. ``verbose=2`` always writes one line when the bar is finalized::

    782/782 - 3s - 3ms/step - loss: 0.3387 - accuracy: 0.9050

Speed: the values passed to :meth:`Progbar.update` may be a lazy ``Mapping``
whose reads force a device synchronisation. They are only read when the bar is
actually drawn (at most once per ``interval`` seconds, and when finalized).
"""

import math
import numbers
import os
import sys
import time
from collections.abc import Iterable, Mapping

import numpy as np
import torch

__all__ = ["Progbar"]

_BAR_CHAR = "━"
_ASCII_BAR_CHAR = "="
_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_WHITE = "\x1b[37m"
_RESET = "\x1b[0m"


# --- pure formatting helpers -------------------------------------------------


def format_value(value):
    """Formats a metric value like Keras: ``.4f``, or ``.4e`` when ``|value| <= 1e-3``.

    Example:
        >>> format_value(0.33871), format_value(0.0), format_value(-2.5e-5)
        ('0.3387', '0.0000e+00', '-2.5000e-05')
    """
    if abs(value) > 1e-3:
        return f"{value:.4f}"
    return f"{value:.4e}"


def format_time_per_unit(seconds, unit_name):
    """Formats a duration per unit in s, ms or us, e.g. ``"3ms/step"``.

    Example:
        >>> format_time_per_unit(0.0031, "step"), format_time_per_unit(2e-5, "sample")
        ('3ms/step', '20us/sample')
    """
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds):
    """Formats a remaining time as ``"42s"``, ``"m:ss"`` or ``"h:mm:ss"``.

    Example:
        >>> format_eta(42.7), format_eta(75), format_eta(3725)
        ('42s', '1:15', '1:02:05')
    """
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _to_scalar(name, value):
    """Reads one displayed value as a Python float (arrays are averaged)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.numel() == 1:
            return float(value.item())
        return float(value.double().mean().item())
    try:
        return float(np.mean(np.asarray(value, dtype=np.float64)))
    except (TypeError, ValueError):
        raise TypeError(
            f"Progbar values must be numbers, arrays or tensors; the value for "
            f"{name!r} is {type(value).__name__} {value!r}. Pass (name, number) "
            f"pairs or a mapping of name -> number."
        ) from None


def _stdout_is_interactive():
    """Whether ``sys.stdout`` redraws lines in place (terminal, notebook, IDE console)."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # closed stream
        return False
    return "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def write_stdout(message):
    """Writes `message` to the current `sys.stdout` and flushes it."""
    stream = sys.stdout
    try:
        stream.write(message)
    except UnicodeEncodeError:
        # Streams that cannot encode the bar character get an ASCII bar.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        message = message.replace(_BAR_CHAR, _ASCII_BAR_CHAR)
        stream.write(message.encode(encoding, errors="ignore").decode(encoding))
    stream.flush()


# --- the bar -----------------------------------------------------------------


class Progbar:
    """Displays a progress bar.

    Every value is displayed as given (the latest value passed for each name):
    the values ember's training loop passes are already running averages.

    Args:
        target: Total number of steps expected, or `None` if unknown (the bar
            then shows ``n/Unknown``).
        width: Width of the bar in characters.
        verbose: 0 (silent), 1 (live bar) or 2 (one line when finalized).
        interval: Minimum number of seconds between two redraws.
        stateful_metrics: Accepted for compatibility with Keras; every value is
            displayed as given, as Keras does for stateful metrics, so this
            argument has no effect.
        unit_name: Name of one step in the time-per-step field.

    Example:
        >>> bar = Progbar(2, verbose=2)
        >>> bar.update(1, [("loss", 0.5)])
        >>> bar.update(2, {"loss": 0.25})  # doctest: +ELLIPSIS
        2/2 - 0s - ...step - loss: 0.2500
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        unit_name="step",
    ):
        if target is not None and (
            not isinstance(target, numbers.Integral) or isinstance(target, bool) or target < 0
        ):
            raise ValueError(
                f"Progbar target must be a non-negative integer or None (unknown), got {target!r}."
            )
        if not isinstance(width, numbers.Integral) or width < 1:
            raise ValueError(f"Progbar width must be a positive integer, got {width!r}.")
        if verbose not in (0, 1, 2):
            raise ValueError(
                "Progbar verbose must be 0 (silent), 1 (live bar) or 2 (one line), "
                f"got {verbose!r}."
            )
        if not isinstance(interval, numbers.Real) or interval < 0:
            raise ValueError(
                f"Progbar interval must be a non-negative number of seconds, got {interval!r}."
            )
        if stateful_metrics is not None and (
            isinstance(stateful_metrics, str) or not isinstance(stateful_metrics, Iterable)
        ):
            raise TypeError(
                "Progbar stateful_metrics must be None or an iterable of metric names, "
                f"got {stateful_metrics!r}."
            )
        self.target = None if target is None else int(target)
        self.width = int(width)
        self.verbose = int(verbose)
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name

        self._interactive = _stdout_is_interactive()
        self._start = time.monotonic()
        self._last_draw = -math.inf
        self._time_after_first_step = None
        self._seen_so_far = 0
        self._pending_values = None
        self._values = {}  # name -> float, in first-seen order
        self._prev_width = 0

    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of the current step (1-based count of steps done).
            values: Values to display, as a list of `(name, value)` pairs or a
                `Mapping`. Read only when the bar is redrawn; names not given
                keep their last displayed value.
            finalize: Whether this is the last update of the bar. Defaults to
                `current >= target` (never, when the target is unknown).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values is not None:
            if not isinstance(values, (Mapping, list, tuple)) and (
                isinstance(values, (str, bytes)) or not isinstance(values, Iterable)
            ):
                raise TypeError(
                    "Progbar values must be a list of (name, value) pairs or a mapping, "
                    f"got {type(values).__name__}."
                )
            self._pending_values = values
        now = time.monotonic()
        self._seen_so_far = current

        if self.verbose == 1:
            if finalize or (self._interactive and now - self._last_draw >= self.interval):
                self._draw_live(current, now, finalize)
                self._last_draw = now
        elif self.verbose == 2 and finalize:
            self._draw_line(current, now)

        if current == 1:
            self._time_after_first_step = now

    def add(self, n, values=None):
        """Advances the bar by `n` steps; see `update` for `values`."""
        self.update(self._seen_so_far + n, values)

    # -- drawing --------------------------------------------------------------

    def _read_values(self):
        pending, self._pending_values = self._pending_values, None
        if pending is None:
            return
        entries = pending.items() if isinstance(pending, Mapping) else pending
        for entry in entries:
            try:
                name, value = entry
            except (TypeError, ValueError):
                raise TypeError(
                    "Progbar values must be (name, value) pairs, got the entry "
                    f"{entry!r}. Pass e.g. [('loss', 0.25)] or {{'loss': 0.25}}."
                ) from None
            self._values[name] = _to_scalar(name, value)

    def _time_per_unit(self, current, now):
        # The first step (graph building, warm-up) is left out once later steps exist.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        return (now - self._start) / current

    def _metrics_text(self):
        return "".join(f" - {name}: {format_value(v)}" for name, v in self._values.items())

    def _draw_live(self, current, now, finalize):
        self._read_values()
        interactive = self._interactive

        def styled(text, code):
            return f"{code}{text}{_RESET}" if interactive else text

        target = self.target
        if target:
            count = "%*d/%d" % (len(str(target)), current, target)
            filled = max(int(self.width * (float(current) / target)), 0)
            empty = max(self.width - filled, 0)
            bar = styled(count, _BOLD) + " "
            if filled:
                bar += styled(_BAR_CHAR * filled, _GREEN)
            bar += styled(_BAR_CHAR * empty, _WHITE)
            bar_width = len(count) + 1 + filled + empty
        else:
            bar = "%7d/Unknown" % current
            bar_width = len(bar)

        time_per_unit = self._time_per_unit(current, now)
        if target and not finalize:
            clock = format_eta(time_per_unit * (target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        tail = f" {format_time_per_unit(time_per_unit, self.unit_name)}{self._metrics_text()}"
        line = f"{bar} {styled(clock, _BOLD)}{tail}"
        width = bar_width + 1 + len(clock) + len(tail)

        if interactive:
            message = "\b" * self._prev_width + "\r" + line
            if self._prev_width > width:
                message += " " * (self._prev_width - width)
            self._prev_width = width
        else:
            message = line
        if finalize:
            message += "\n"
        write_stdout(message)

    def _draw_line(self, current, now):
        self._read_values()
        target = self.target
        if target:
            count = "%*d/%d" % (len(str(target)), current, target)
        else:
            count = "%d/Unknown" % current
        time_per_unit = self._time_per_unit(current, now)
        write_stdout(
            f"{count} - {now - self._start:.0f}s - "
            f"{format_time_per_unit(time_per_unit, self.unit_name)}{self._metrics_text()}\n"
        )

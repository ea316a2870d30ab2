"""`plot_history`: training curves from a `History`, one subplot per metric."""

import math
import numbers
import os

__all__ = ["plot_history"]

MSG_MISSING_MATPLOTLIB = (
    "plot_history needs matplotlib. Install it with: pip install matplotlib "
    '(or pip install "ember[matplotlib]").'
)


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as error:
        raise ImportError(MSG_MISSING_MATPLOTLIB) from error
    return Figure, FigureCanvasAgg, MaxNLocator


def _is_scalar_series(values):
    return isinstance(values, (list, tuple)) and all(
        isinstance(value, numbers.Real) and not isinstance(value, bool) for value in values
    )


def _base_name(key):
    return key[len("val_"):] if key.startswith("val_") else key


def _default_metrics(logs):
    names = []
    for key, values in logs.items():
        name = _base_name(key)
        if name not in names and _is_scalar_series(values):
            names.append(name)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")
    return names


def _check_metrics(metrics, logs):
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)) or not all(isinstance(m, str) for m in metrics):
        raise TypeError(f"`metrics` must be None, a metric name or a list of names, got {metrics!r}.")
    available = _default_metrics(logs)
    for name in metrics:
        if name not in available:
            raise ValueError(
                f"`metrics` names {name!r}, which the history does not hold as numbers; it holds "
                f"{available}. Give names without the 'val_' prefix: the validation curve is "
                "drawn with the training one."
            )
    return list(metrics)


def _unpack(history):
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(
            "`history` must be a History (what fit returns) or its `.history` dict, got "
            f"{type(history).__name__}."
        )
    epochs = getattr(history, "epoch", None)
    return logs, list(epochs) if epochs else None


def plot_history(history, path=None, metrics=None):
    """Plots training curves: one subplot per metric, training and validation together.

    The loss comes first, then the other metrics in the order they were
    logged. Each subplot draws `<name>` and, when present, `val_<name>`
    against the 1-based epoch number (`history.epoch + 1`; `1..n` for a
    plain dict or when the epochs do not match the values, as when a
    `History` was reused across several `fit` calls). A curve with fewer
    values than epochs (validation with `validation_freq > 1`) is drawn
    against the first epochs. Logs that are not numbers (a per-class array)
    are left out unless named in `metrics`, which is an error for them.

    The figure is drawn with matplotlib's Agg renderer and does not touch
    `pyplot`'s state, so it works without a display.

    Args:
        history: A `History` (as returned by `fit`) or its `.history` dict.
        path: Where to save the figure; the format follows the extension
            (PNG when there is none). Nothing is saved when `None`.
        metrics: A metric name or a list of names, without `val_`, to plot
            instead of all of them.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:
        >>> figure = plot_history({"loss": [0.9, 0.5], "val_loss": [1.0, 0.7], "mae": [0.8, 0.6]})
        >>> [axes.get_title() for axes in figure.axes]
        ['loss', 'mae']
    """
    logs, epochs = _unpack(history)
    names = _default_metrics(logs) if metrics is None else _check_metrics(metrics, logs)
    if not names:
        raise ValueError(f"The history holds no numeric metrics to plot: {sorted(logs)}.")
    figure_class, canvas_class, tick_locator = _matplotlib()
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = figure_class(figsize=(4.5 * columns, 3.5 * rows), layout="constrained")
    canvas_class(figure)
    length = max(len(values) for values in logs.values())
    if epochs is None or len(epochs) != length:
        epochs = list(range(length))
    for index, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, index + 1)
        for key in (name, f"val_{name}"):
            values = logs.get(key)
            if values:
                x = [epoch + 1 for epoch in epochs[: len(values)]]
                axes.plot(x, [float(v) for v in values], marker="o", markersize=3, label=key)
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(tick_locator(integer=True))
        axes.set_ylabel(name)
        axes.legend()
    if path is not None:
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1]
        figure.savefig(path, format=None if suffix else "png")
    return figure

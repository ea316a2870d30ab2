"""plot_history: one subplot per metric, training and validation curves, saved as PNG."""

import sys

import numpy as np
import pytest

import ember
from ember.callbacks import History
from ember.utils import plot_history

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def curves(figure):
    """{title: {label: (x, y)}} for every axes of `figure`."""
    return {
        axes.get_title(): {line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
                           for line in axes.get_lines()}
        for axes in figure.axes
    }


def trained_history(epochs=3, initial_epoch=0):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = ember.Sequential([ember.Input(shape=(3,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model.fit(x, y, batch_size=8, epochs=epochs, initial_epoch=initial_epoch, verbose=0,
                     validation_data=(x[:8], y[:8]))


def test_one_subplot_per_metric_with_train_and_validation_curves(tmp_path):
    history = trained_history()
    path = tmp_path / "curves.png"
    figure = plot_history(history, path=path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [axes.get_title() for axes in figure.axes] == ["loss", "mae"]
    epochs = [1, 2, 3]
    assert curves(figure) == {
        name: {key: (epochs, history.history[key]) for key in (name, f"val_{name}")}
        for name in ("loss", "mae")
    }
    assert all(axes.get_xlabel() == "epoch" for axes in figure.axes)


def test_loss_comes_first_and_a_dict_is_accepted():
    logs = {"mae": [0.5, 0.25], "loss": [1.0, 0.5], "val_loss": [1.5, 0.75], "accuracy": [0.1, 0.2]}
    figure = plot_history(logs)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "mae", "accuracy"]
    assert curves(figure)["loss"] == {"loss": ([1, 2], [1.0, 0.5]), "val_loss": ([1, 2], [1.5, 0.75])}
    assert curves(figure)["mae"] == {"mae": ([1, 2], [0.5, 0.25])}


def test_epochs_on_the_x_axis_follow_history_epoch():
    history = trained_history(epochs=4, initial_epoch=2)
    assert history.epoch == [2, 3]
    figure = plot_history(history, metrics="loss")
    assert curves(figure) == {"loss": {"loss": ([3, 4], history.history["loss"]),
                                       "val_loss": ([3, 4], history.history["val_loss"])}}


def test_metrics_selects_and_orders_the_subplots():
    logs = {"loss": [1.0], "mae": [0.5], "mse": [0.25]}
    figure = plot_history(logs, metrics=["mse", "loss"])
    assert [axes.get_title() for axes in figure.axes] == ["mse", "loss"]
    assert curves(figure)["mse"] == {"mse": ([1], [0.25])}


def test_many_metrics_are_laid_out_in_rows_of_three():
    logs = {name: [float(i), float(i) / 2] for i, name in enumerate(["loss", "a", "b", "c", "d"])}
    figure = plot_history(logs)
    assert len(figure.axes) == 5
    positions = [axes.get_subplotspec().get_geometry()[:2] for axes in figure.axes]
    assert positions == [(2, 3)] * 5


def test_history_plot_delegates(tmp_path):
    history = trained_history(epochs=2)
    path = tmp_path / "history"  # no extension: PNG
    figure = history.plot(path=path, metrics=["mae"])
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert curves(figure) == {"mae": {key: ([1, 2], history.history[key]) for key in ("mae", "val_mae")}}


def test_non_numeric_logs_are_left_out_unless_asked_for():
    logs = {"loss": [1.0, 0.5], "f1_score": [np.array([0.1, 0.2]), np.array([0.3, 0.4])]}
    assert [axes.get_title() for axes in plot_history(logs).axes] == ["loss"]
    with pytest.raises(ValueError, match=r"'f1_score'.*holds \['loss'\]"):
        plot_history(logs, metrics=["f1_score"])


def test_pyplot_state_is_untouched():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_history({"loss": [1.0, 0.5]})
    assert plt.get_fignums() == before


@pytest.mark.parametrize("history, metrics, error, match", [
    ({"loss": [1.0]}, ["val_loss"], ValueError, r"'val_loss'.*Give names without the 'val_' prefix"),
    ({"loss": [1.0]}, ["accuracy"], ValueError, r"'accuracy'.*holds \['loss'\]"),
    ({"loss": [1.0]}, 3, TypeError, r"`metrics` must be None, a metric name or a list of names, got 3"),
    ([1.0, 0.5], None, TypeError, r"`history` must be a History.*got list"),
    ({}, None, ValueError, r"no numeric metrics"),
])
def test_bad_arguments_are_rejected(history, metrics, error, match):
    with pytest.raises(error, match=match):
        plot_history(history, metrics=metrics)


def test_empty_history_object_is_rejected():
    with pytest.raises(ValueError, match="no numeric metrics"):
        History().plot()


def test_missing_matplotlib_names_the_install_command(monkeypatch):
    for name in ("matplotlib", "matplotlib.backends.backend_agg", "matplotlib.figure", "matplotlib.ticker"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_history({"loss": [1.0]})


def test_docstring_examples_run():
    import doctest

    from ember.utils import plotting

    result = doctest.testmod(plotting)
    assert result.attempted > 0 and result.failed == 0

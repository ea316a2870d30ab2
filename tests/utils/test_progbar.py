"""Progbar output against Keras 3's `keras.utils.Progbar` on the same updates."""

import io
import re
import sys
import time
from collections.abc import Mapping

import numpy as np
import pytest
import torch

import ember.utils.progbar as progbar_module
from ember.utils import Progbar

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    """One clock for both implementations, so timing fields are deterministic."""

    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    # Keras reads time.time(), ember time.monotonic(); both see the same clock.
    monkeypatch.setattr(time, "time", fake)
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


@pytest.fixture
def interactive(monkeypatch):
    monkeypatch.setattr(progbar_module, "_stdout_is_interactive", lambda: True)


@pytest.fixture
def non_interactive(monkeypatch):
    monkeypatch.setattr(progbar_module, "_stdout_is_interactive", lambda: False)


def run_bar(bar_factory, updates, clock, capsys):
    """Applies (seconds, current, values, finalize) updates; returns what was printed."""
    capsys.readouterr()
    clock.now = 1000.0
    bar = bar_factory()
    for seconds, current, values, finalize in updates:
        clock.now = 1000.0 + seconds
        bar.update(current, values, finalize=finalize)
    return capsys.readouterr().out


# Step times cover s/ms/us per step and ETAs in "Ns", "m:ss" and "h:mm:ss";
# values cover .4f, .4e, zero, negatives and large numbers.
STEP_SECONDS = [0.4, 0.0005, 0.03, 2.5, 1e-5, 70.0, 4000.0, 0.2, 0.001, 1.7, 0.05, 0.3]
LOSSES = [0.5, 1e-4, 0.0, -3.2, 123456.789, -1e-5, 0.33871, 2e-3, 0.001, 5.0, 0.25, 0.125]


def make_updates(n, last_finalize=None, values_as="pairs"):
    updates, seconds = [], 0.0
    for step in range(1, n + 1):
        seconds += STEP_SECONDS[step - 1]
        pairs = [("loss", LOSSES[step - 1]), ("accuracy", step / n)]
        values = dict(pairs) if values_as == "mapping" else pairs
        finalize = last_finalize if step == n else None
        updates.append((seconds, step, values, finalize))
    return updates


@pytest.mark.parametrize("target", [12, 7, 1000])
def test_live_bar_matches_keras_byte_for_byte(keras, clock, interactive, capsys, target):
    updates = make_updates(12 if target != 7 else 7)
    expected = run_bar(
        lambda: keras.utils.Progbar(target, stateful_metrics=["loss", "accuracy"]),
        updates, clock, capsys,
    )
    got = run_bar(lambda: Progbar(target), make_updates(len(updates), values_as="mapping"),
                  clock, capsys)
    assert got == expected
    if target == 7:  # finished bar: green part, no ETA, newline
        assert "\x1b[1m7/7\x1b[0m \x1b[32m" + "━" * 20 in got and got.endswith("\n")


def test_unknown_target_matches_keras(keras, clock, interactive, capsys):
    updates = make_updates(6, last_finalize=True)
    expected = run_bar(lambda: keras.utils.Progbar(None, stateful_metrics=["loss", "accuracy"]),
                       updates, clock, capsys)
    got = run_bar(lambda: Progbar(None), updates, clock, capsys)
    assert got == expected
    assert "\r      6/Unknown " in got


def test_width_interval_and_unit_name_match_keras(keras, clock, interactive, capsys):
    updates = make_updates(10)
    kwargs = dict(width=7, interval=60.0, unit_name="sample")
    expected = run_bar(lambda: keras.utils.Progbar(10, stateful_metrics=["loss", "accuracy"],
                                                   **kwargs), updates, clock, capsys)
    got = run_bar(lambda: Progbar(10, **kwargs), updates, clock, capsys)
    assert got == expected
    assert "/sample" in got
    # interval=60 skips some redraws, but not all of them.
    assert 1 < got.count("\r") < 10


def test_verbose_2_matches_keras(keras, clock, capsys):
    updates = [(u[0], u[1], [("loss", abs(u[2][0][1])), u[2][1]], u[3]) for u in make_updates(9)]
    expected = run_bar(lambda: keras.utils.Progbar(9, verbose=2, stateful_metrics=["loss",
                                                                                   "accuracy"]),
                       updates, clock, capsys)
    got = run_bar(lambda: Progbar(9, verbose=2), updates, clock, capsys)
    assert got == expected
    assert got.count("\n") == 1 and got.startswith("9/9 - ")


def test_verbose_2_negative_values_use_the_absolute_value_rule(clock, capsys):
    # Keras's verbose=2 line tests `value > 1e-3` (so -2.0 prints as
    # -2.0000e+00); ember uses `|value| > 1e-3` for both modes, as verbose=1 does.
    got = run_bar(lambda: Progbar(2, verbose=2),
                  [(0.5, 1, None, None), (1.0, 2, {"loss": -2.0, "tiny": -1e-4}, None)],
                  clock, capsys)
    assert got == f"2/2 - 1s - 500ms/step - loss: {-2.0:.4f} - tiny: {-1e-4:.4e}\n"


def test_verbose_2_unknown_target_prints_one_line(clock, capsys):
    # Keras prints nothing for an unknown target in verbose=2; ember prints the line.
    got = run_bar(lambda: Progbar(None, verbose=2),
                  [(1.0, 1, [("loss", 0.5)], None), (3.0, 3, [("loss", 0.25)], True)],
                  clock, capsys)
    assert got == "3/Unknown - 3s - 1s/step - loss: 0.2500\n"


def test_non_interactive_prints_only_the_finished_line(keras, clock, non_interactive, capsys):
    updates = make_updates(12)
    keras_out = run_bar(lambda: keras.utils.Progbar(12, stateful_metrics=["loss", "accuracy"]),
                        updates, clock, capsys)
    got = run_bar(lambda: Progbar(12), updates, clock, capsys)
    last_frame = ANSI.sub("", keras_out.split("\r")[-1]).rstrip(" \n")
    assert got == last_frame + "\n"
    assert "\r" not in got and "\b" not in got and "\x1b" not in got


def test_non_interactive_real_time_matches_keras_up_to_timing(keras, non_interactive, capsys):
    def drive(bar):
        for step in range(1, 5):
            bar.update(step, [("loss", 1.0 / step), ("mae", 1e-6 * step)])
        return capsys.readouterr().out

    capsys.readouterr()
    expected = drive(keras.utils.Progbar(4, stateful_metrics=["loss", "mae"]))
    got = drive(Progbar(4))

    def normalise(text):
        text = ANSI.sub("", text.split("\r")[-1]).rstrip(" \n")
        return re.sub(r" \d+s \d+(?:s|ms|us)/step", " <time>", text)

    assert normalise(got) == normalise(expected)
    assert re.fullmatch(
        r"4/4 ━{20} \d+s \d+(s|ms|us)/step - loss: 0\.2500 - mae: 4\.0000e-06\n", got
    )


def test_array_and_tensor_values_are_averaged_like_keras(keras, clock, interactive, capsys):
    updates = [(0.5, 1, [("a", np.array([1.0, 2.0, 4.0])), ("b", np.float32(0.25))], None),
               (1.0, 2, [("a", np.array([[0.5, 1.5]])), ("b", 3)], None)]
    expected = run_bar(lambda: keras.utils.Progbar(2, stateful_metrics=["a", "b"]),
                       updates, clock, capsys)
    tensor_updates = [(s, c, [(k, torch.as_tensor(v)) for k, v in vals], f)
                      for s, c, vals, f in updates]
    assert run_bar(lambda: Progbar(2), tensor_updates, clock, capsys) == expected
    assert run_bar(lambda: Progbar(2), updates, clock, capsys) == expected


class CountingMapping(Mapping):
    """A lazy mapping that counts how often it is read."""

    def __init__(self, **values):
        self._values = values
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self._values[key]

    def __iter__(self):
        self.reads += 1
        return iter(self._values)

    def __len__(self):
        self.reads += 1
        return len(self._values)


def test_lazy_values_are_read_only_on_redraw(clock, interactive, capsys):
    bar = Progbar(10, interval=5.0)
    logs = [CountingMapping(loss=1.0 / step) for step in range(1, 11)]
    seconds = [0.0, 1.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 9.5, 9.9]
    for step, (logs_now, now) in enumerate(zip(logs, seconds), start=1):
        clock.now = 1000.0 + now
        bar.update(step, logs_now)
    # Redraws at step 1 (first), step 5 (interval elapsed) and step 10 (finalize).
    assert [m.reads > 0 for m in logs] == [
        True, False, False, False, True, False, False, False, False, True]
    out = capsys.readouterr().out
    assert out.count("\r") == 3 and out.endswith("loss: 0.1000\n")


@pytest.mark.parametrize("mode", ["non_interactive_1", "verbose_2", "verbose_0"])
def test_lazy_values_are_not_read_without_a_visible_redraw(clock, monkeypatch, capsys, mode):
    monkeypatch.setattr(progbar_module, "_stdout_is_interactive", lambda: False)
    bar = Progbar(5, verbose={"non_interactive_1": 1, "verbose_2": 2, "verbose_0": 0}[mode],
                  interval=0.0)
    logs = [CountingMapping(loss=0.5) for _ in range(5)]
    for step, logs_now in enumerate(logs, start=1):
        clock.now += 1.0
        bar.update(step, logs_now)
    final_read = mode != "verbose_0"
    assert [m.reads > 0 for m in logs] == [False] * 4 + [final_read]
    assert capsys.readouterr().out.count("\n") == (1 if final_read else 0)


def test_values_given_between_redraws_are_shown_at_the_next_redraw(clock, interactive, capsys):
    bar = Progbar(4, interval=10.0)
    bar.update(1, {"loss": 1.0, "acc": 0.5})
    bar.update(2, {"loss": 0.75})  # not drawn: within the interval
    clock.now += 20.0
    bar.update(3)  # drawn with the pending values; "acc" keeps its last value
    assert capsys.readouterr().out.split("\r")[-1].endswith("loss: 0.7500 - acc: 0.5000")


def test_add_advances_like_update(clock, capsys):
    bar = Progbar(3, verbose=2)
    bar.add(1, [("loss", 1.0)])
    bar.add(2, [("loss", 0.5)])
    clock.now += 1.0
    assert capsys.readouterr().out == "3/3 - 0s - 0s/step - loss: 0.5000\n"


def test_ascii_only_stream_gets_an_ascii_bar(clock, non_interactive, monkeypatch):
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(2, width=4)
    bar.update(1)
    bar.update(2, [("loss", 0.5)])
    stream.seek(0)
    assert stream.read() == "2/2 ==== 0s 0s/step - loss: 0.5000\n"


def test_interactive_detection(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert progbar_module._stdout_is_interactive()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not progbar_module._stdout_is_interactive()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(target=-1), ValueError, "target must be a non-negative integer or None.*-1"),
        (dict(target=2.5), ValueError, "target must be .* got 2.5"),
        (dict(target=3, width=0), ValueError, "width must be a positive integer, got 0"),
        (dict(target=3, verbose=3), ValueError, "verbose must be 0 .* got 3"),
        (dict(target=3, interval=-1), ValueError, "interval must be a non-negative .* got -1"),
        (dict(target=3, stateful_metrics="loss"), TypeError, "stateful_metrics must be None or"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Progbar(**kwargs)


def test_bad_values(capsys):
    with pytest.raises(TypeError, match="list of \\(name, value\\) pairs or a mapping, got str"):
        Progbar(2).update(1, "loss")
    with pytest.raises(TypeError, match="must be \\(name, value\\) pairs, got the entry"):
        Progbar(2).update(2, [("loss",)])
    with pytest.raises(TypeError, match="value for 'loss' is str 'high'"):
        Progbar(2).update(2, {"loss": "high"})

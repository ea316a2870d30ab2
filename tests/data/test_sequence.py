"""``ember.utils.Sequence`` / ``PyDataset``: the base class, against Keras 3's ``PyDataset``."""

import itertools

import numpy as np
import pytest

from ember.utils import PyDataset, Sequence
from test_sequence_helpers import watchdog  # noqa: F401  (autouse)


def _make_squares(base):
    class Squares(base):
        def __init__(self, n=5, batch_size=2, **kwargs):
            super().__init__(**kwargs)
            self.x = np.arange(n, dtype="float32")
            self.batch_size = batch_size

        def __len__(self):
            return -(-len(self.x) // self.batch_size)

        def __getitem__(self, index):
            x = self.x[index * self.batch_size:(index + 1) * self.batch_size]
            return x, x ** 2

    return Squares


def _make_no_super(base):
    class NoSuper(base):
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            return np.full((1, 1), index, "float32")

    return NoSuper


def _settings(dataset):
    return dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size


def test_pydataset_is_sequence():
    import ember

    assert PyDataset is Sequence is ember.utils.Sequence is ember.utils.PyDataset


def test_defaults_match_keras(keras):
    ours, theirs = _make_squares(Sequence)(), _make_squares(keras.utils.PyDataset)()
    assert _settings(ours) == _settings(theirs)
    assert ours.num_batches == theirs.num_batches == 3


def test_settings_from_constructor_and_setters_match_keras(keras):
    kwargs = {"workers": 4, "use_multiprocessing": True, "max_queue_size": 3}
    ours, theirs = _make_squares(Sequence)(**kwargs), _make_squares(keras.utils.PyDataset)(**kwargs)
    assert _settings(ours) == _settings(theirs) == (4, True, 3)
    for dataset in (ours, theirs):
        dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size = 0, False, 7
    assert _settings(ours) == _settings(theirs) == (0, False, 7)


def test_subclass_that_skips_super_init_gets_the_defaults(keras):
    ours = _make_no_super(Sequence)(4)
    with pytest.warns(UserWarning):  # Keras warns about the missing super().__init__ call; ember does not
        theirs = _make_no_super(keras.utils.PyDataset)(4)
        _settings(theirs)
    assert _settings(ours) == _settings(theirs) == (1, False, 10)
    assert ours.num_batches == 4
    ours.workers = 2  # the setters work without the base __init__
    assert ours.workers == 2


def test_unknown_constructor_argument_is_a_type_error(keras):
    with pytest.raises(TypeError, match="batch_size"):
        Sequence(batch_size=3)
    with pytest.raises(TypeError, match="batch_size"):
        keras.utils.PyDataset(batch_size=3)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"workers": -1}, ValueError, r"`workers` must be an integer >= 0 .*got -1"),
        ({"workers": 2.5}, TypeError, r"`workers` must be an integer >= 0 .*got 2.5"),
        ({"workers": True}, TypeError, r"`workers` must be an integer >= 0 .*got True"),
        ({"use_multiprocessing": "yes"}, TypeError, r"`use_multiprocessing` must be True or False, got 'yes'"),
        ({"max_queue_size": 0}, ValueError, r"`max_queue_size` must be an integer >= 1 .*got 0"),
        ({"max_queue_size": None}, TypeError, r"`max_queue_size` must be an integer >= 1 .*got None"),
    ],
)
def test_bad_settings_are_rejected_with_the_argument_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        Sequence(**kwargs)
    dataset = Sequence()
    name, value = next(iter(kwargs.items()))
    with pytest.raises(error, match=message):
        setattr(dataset, name, value)


def test_numpy_integer_settings_are_accepted():
    dataset = Sequence(workers=np.int64(3), max_queue_size=np.int32(4))
    assert (dataset.workers, dataset.max_queue_size) == (3, 4)
    assert type(dataset.workers) is int


def test_iterating_a_sequence_directly_matches_keras(keras):
    ours = list(_make_squares(Sequence)(n=5, batch_size=2))
    theirs = list(_make_squares(keras.utils.PyDataset)(n=5, batch_size=2))
    assert len(ours) == len(theirs) == 3
    for (ox, oy), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(ox, tx)
        np.testing.assert_array_equal(oy, ty)


def test_endless_sequence_iterates_without_end():
    class Endless(Sequence):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return index

    assert Endless().num_batches is None
    assert list(itertools.islice(Endless(), 7)) == list(range(7))


def test_missing_len_and_getitem_are_explained(keras):
    class Empty(Sequence):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty must define `__len__`.*`num_batches`"):
        Empty().num_batches
    with pytest.raises(NotImplementedError):  # Keras raises the same type
        type("Empty", (keras.utils.PyDataset,), {})().num_batches
    with pytest.raises(NotImplementedError, match=r"Empty must define `__getitem__"):
        Empty()[0]


def test_epoch_hooks_exist_and_do_nothing_by_default(keras):
    dataset = _make_squares(Sequence)(workers=2)
    before = {name: value for name, value in vars(dataset).items() if name != "x"}
    assert dataset.on_epoch_begin() is None and dataset.on_epoch_end() is None
    assert {name: value for name, value in vars(dataset).items() if name != "x"} == before
    for name in ("on_epoch_begin", "on_epoch_end"):
        assert callable(getattr(keras.utils.PyDataset, name))

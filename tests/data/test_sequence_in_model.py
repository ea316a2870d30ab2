"""Through fit: every Sequence index exactly once per epoch, recorded inside the model itself."""

import pytest
import torch

import ember
from ember import layers
from test_sequence_helpers import LoggedSequence, watchdog  # noqa: F401  (autouse fixtures)


class IndexRecorder(layers.Layer):
    """Records the batch index the model was trained on (the first feature of the batch)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        if training and not ember.backend.in_symbolic_scope():
            self.seen.append(int(inputs[0, 0]))
        return inputs


CASES = [
    pytest.param(workers, multiprocessing, shuffle, id=f"{workers}-{'processes' if multiprocessing else 'threads'}-{'shuffled' if shuffle else 'ordered'}")
    for workers in (1, 3, 8)
    for multiprocessing, shuffle in ((False, False), (False, True), (True, True))
]


@pytest.mark.parametrize("workers, multiprocessing, shuffle", CASES)
def test_each_epoch_sees_every_index_once(tmp_path, workers, multiprocessing, shuffle):
    sequence = LoggedSequence(12, tmp_path / "log.txt", workers=workers, use_multiprocessing=multiprocessing)
    inputs = ember.Input(shape=(2,))
    recorder = IndexRecorder()
    model = ember.Model(inputs, layers.Dense(1)(recorder(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    torch.manual_seed(0)
    model.fit(sequence, epochs=3, shuffle=shuffle, verbose=0)
    epochs = [recorder.seen[i * 12 : (i + 1) * 12] for i in range(3)]
    assert len(recorder.seen) == 36
    for order in epochs:
        assert sorted(order) == list(range(12))
    if shuffle:
        torch.manual_seed(0)
        expected = [torch.randperm(12).tolist() for _ in range(3)]
        assert epochs == expected
    else:
        assert epochs == [list(range(12))] * 3
    assert sequence.ends == 3

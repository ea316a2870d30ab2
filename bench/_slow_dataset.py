"""The slow ``PyDataset`` of the ``sequence`` workload, importable by worker processes.

Worker processes unpickle the dataset by importing this module, so the class
must live at module level; ``BENCH_API`` (set by ``run.py``) picks whether it
subclasses ``ember.utils.PyDataset`` or ``keras.utils.PyDataset``.
"""

import os

import _common as c

if os.environ.get("BENCH_API") == "keras":
    from keras.utils import PyDataset
else:
    from ember.utils import PyDataset


class SlowBatches(PyDataset):
    """``num`` batches; each ``__getitem__`` sleeps (file reading and decoding)."""

    def __init__(self, num, load_s, batch, **kwargs):
        super().__init__(**kwargs)
        self.num, self.load_s, self.batch = num, load_s, batch

    def __len__(self):
        return self.num

    def __getitem__(self, index):
        return c.slow_batch(index, self.load_s, self.batch)

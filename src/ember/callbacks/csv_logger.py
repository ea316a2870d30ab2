"""`CSVLogger`: stream every epoch's logs to a CSV file."""

import collections.abc
import csv
import os

import numpy as np
import torch

from ember.callbacks.callback import Callback
from ember.distribute.process_group import is_main_process

__all__ = ["CSVLogger"]


def _cell(value):
    """Strings and numbers are written as they are; sequences as a quoted `"[a, b]"`."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
        value = value.item() if value.ndim == 0 else value
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Writes one CSV row per epoch: the epoch (0-based) and every epoch log value.

    The columns are `epoch` followed by the first epoch's log keys in sorted
    order; when that first epoch has no `val_` keys, a `val_` column is added
    for each key (filled with `NA` while there is no validation), so the
    columns stay the same if validation starts later. Keys missing in later
    epochs are written as `NA`. The file is flushed after every row, so it
    can be read while training runs. Lines end with `\\r\\n` (the csv module's
    default dialect), as Keras writes them.

    Args:
        filename: Path of the CSV file (a string or `os.PathLike`).
        separator: The column separator. Defaults to `","`.
        append: `True` appends to an existing file (no second header is
            written when the file already has content); `False` overwrites
            it. Defaults to `False`.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin(); logger.on_epoch_end(0, {"loss": 0.5}); logger.on_train_end()
        >>> path.read_text().splitlines()
        ['epoch,loss,val_loss', '0,0.5,NA']
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if not is_main_process():
            self.csv_file = open(os.devnull, "w", newline="")  # only rank 0 writes the file
            self.writer = self.keys = None
            return
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as existing:
                    self.append_header = not existing.readline()
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_file is None or self.csv_file.closed:
            raise RuntimeError(
                f"CSVLogger({self.filename!r}) has no open file: `on_train_begin` opens it (and "
                "`on_train_end` closes it). Pass the callback to `fit`, or call `on_train_begin` first."
            )
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend(f"val_{key}" for key in list(self.keys))
        if self.writer is None:
            dialect = type("CSVLoggerDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None

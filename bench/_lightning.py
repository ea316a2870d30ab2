"""The workloads as idiomatic PyTorch Lightning: a LightningModule, DataLoaders and ``Trainer.fit``.

The networks are the hand-written loop's (``_torch_loop``); losses and
accuracies are logged with ``self.log(..., on_epoch=True)``. An epoch is timed
from one ``on_train_epoch_start`` to the next (validation included).
"""

import time

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import _common as c
import _torch_loop as ref


class _Classifier(pl.LightningModule):
    def __init__(self, net, loss_fn, correct_fn, make_optimizer):
        super().__init__()
        self.net, self.loss_fn, self.correct_fn, self.make_optimizer = net, loss_fn, correct_fn, make_optimizer

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        out = self.net(x)
        loss = self.loss_fn(out, y)
        self.log("loss", loss, on_step=False, on_epoch=True)
        self.log("accuracy", self.correct_fn(out, y) / len(y), on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self.net(x)
        self.log("val_loss", self.loss_fn(out, y), on_epoch=True)
        self.log("val_accuracy", self.correct_fn(out, y) / len(y), on_epoch=True)

    def test_step(self, batch, batch_idx):
        self.validation_step(batch, batch_idx)

    def predict_step(self, batch, batch_idx):
        return torch.softmax(self.net(batch[0]), dim=1)

    def configure_optimizers(self):
        return self.make_optimizer(self.parameters())


class _EpochStarts(pl.Callback):
    def __init__(self):
        self.marks = []

    def on_train_epoch_start(self, trainer, module):
        self.marks.append(time.perf_counter())

    def on_train_end(self, trainer, module):
        self.marks.append(time.perf_counter())

    @property
    def times(self):
        return [b - a for a, b in zip(self.marks, self.marks[1:])]


def _trainer(spec, device, callbacks=()):
    return pl.Trainer(
        max_epochs=spec.epochs, accelerator="gpu" if device == "cuda" else "cpu", devices=1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, callbacks=list(callbacks),
    )


def _loader(arrays, batch, shuffle=False):
    return DataLoader(TensorDataset(*(torch.from_numpy(a) for a in arrays)), batch_size=batch, shuffle=shuffle)


def _fit(module, spec, device, train, val=None):
    clock = _EpochStarts()
    _trainer(spec, device, [clock]).fit(module, train, val)
    return {"times": clock.times, "samples": spec.n_train}


def _rmsprop(params):
    return torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7)


def _adam(params):
    return torch.optim.Adam(params, lr=1e-3, eps=1e-7)


def _mlp_module():
    return _Classifier(ref._mlp(), F.cross_entropy, ref._class_correct, _rmsprop)


def mlp(spec, device):
    x, y, xv, yv = c.mlp_data(spec)
    return _fit(_mlp_module(), spec, device, _loader((x, y), spec.batch, True), _loader((xv, yv), spec.batch))


def cnn(spec, device):
    x, y = c.cnn_data(spec)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 5 * 5, c.CLASSES),
    )
    module = _Classifier(net, F.cross_entropy, ref._class_correct, _adam)
    return _fit(module, spec, device, _loader((x.transpose(0, 3, 1, 2).copy(), y), spec.batch, True))


def lstm(spec, device):
    x, y = c.lstm_data(spec)

    def correct(logits, yb):
        return ((logits > 0).float() == yb).sum()

    module = _Classifier(ref._TextClassifier(), F.binary_cross_entropy_with_logits, correct, _adam)
    return _fit(module, spec, device, _loader((x, y), spec.batch, True))


def sequence(spec, device):
    num, load_s, workers = c.sequence_sizes(spec)
    loader = DataLoader(ref.SlowBatches(num, load_s, spec.batch), batch_size=None, shuffle=True,
                        num_workers=workers, persistent_workers=True)
    net = torch.nn.Sequential(
        torch.nn.Linear(c.SEQ_FEATURES, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 1),
    )
    module = _Classifier(net, F.mse_loss, lambda out, y: torch.zeros(()), _adam)
    result = _fit(module, spec, device, loader)
    result["samples"] = num * spec.batch
    return result


def predict(spec, device):
    _, _, xv, _ = c.mlp_data(spec)
    trainer, module, loader = _trainer(spec, device), _mlp_module(), _loader((xv,), spec.batch)
    times = c.timed_passes(lambda: torch.cat(trainer.predict(module, loader)).numpy(), spec.epochs)
    return {"times": times, "samples": spec.n_val}


def evaluate(spec, device):
    _, _, xv, yv = c.mlp_data(spec)
    trainer, module, loader = _trainer(spec, device), _mlp_module(), _loader((xv, yv), spec.batch)
    times = c.timed_passes(lambda: trainer.test(module, loader, verbose=False), spec.epochs)
    return {"times": times, "samples": spec.n_val}

"""The reference: hand-written PyTorch training loops, as a PyTorch engineer writes them.

Each loop uses the same optimizer (and Keras's epsilon), loss and metric
tracking as the Keras-style frameworks: the loss and accuracy are accumulated
on the device every step and read once per epoch; the MLP has a validation
pass per epoch. Images are fed as PyTorch users hold them, ``(N, C, H, W)``.
Optimizers use PyTorch's defaults (on CPU a per-parameter loop); the ``torch-foreach``
framework passes ``foreach=True``, the multi-tensor kernels ember's optimizers use.
"""

import torch
import torch.nn.functional as F
from torch import nn

import _common as c

# ``torch-foreach`` sets this: the multi-tensor optimizer kernels ember's optimizers also use.
FOREACH = None


def _mlp():
    return nn.Sequential(
        nn.Linear(c.MLP_FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, c.CLASSES)
    )


def _train_epochs(model, optimizer, loss_fn, x, y, batch, epochs, correct_fn, val=None):
    """``epochs`` epochs of shuffled mini-batches, with loss and metric accumulated on the device."""
    clock = c.EpochClock()
    n = len(x)
    for _ in range(epochs):
        clock.begin()
        model.train()
        total_loss = torch.zeros((), device=x.device)
        correct = torch.zeros((), device=x.device)
        perm = torch.randperm(n, device=x.device)
        for start in range(0, n, batch):
            index = perm[start : start + batch]
            xb, yb = x[index], y[index]
            out = model(xb)
            loss = loss_fn(out, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                total_loss += loss * len(yb)
                correct += correct_fn(out, yb)
        logs = {"loss": float(total_loss) / n, "accuracy": float(correct) / n}
        if val is not None:
            logs["val_loss"], logs["val_accuracy"] = _evaluate(model, *val, batch)
        clock.end()
    return clock.times


@torch.no_grad()
def _evaluate(model, x, y, batch):
    model.eval()
    total_loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), batch):
        out = model(x[start : start + batch])
        yb = y[start : start + batch]
        total_loss += F.cross_entropy(out, yb, reduction="sum")
        correct += (out.argmax(1) == yb).sum()
    return [float(total_loss) / len(x), float(correct) / len(x)]


def _class_correct(logits, y):
    return (logits.argmax(1) == y).sum()


def mlp(spec, device):
    x, y, xv, yv = (torch.from_numpy(a).to(device) for a in c.mlp_data(spec))
    model = _mlp().to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7, foreach=FOREACH)
    times = _train_epochs(model, optimizer, F.cross_entropy, x, y, spec.batch, spec.epochs, _class_correct, (xv, yv))
    return {"times": times, "samples": spec.n_train}


def cnn(spec, device):
    x, y = c.cnn_data(spec)
    x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)  # PyTorch's (N, C, H, W)
    y = torch.from_numpy(y).to(device)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, c.CLASSES),
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=FOREACH)
    times = _train_epochs(model, optimizer, F.cross_entropy, x, y, spec.batch, spec.epochs, _class_correct)
    return {"times": times, "samples": spec.n_train}


class _TextClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(c.VOCAB, c.EMBED)
        self.lstm = nn.LSTM(c.EMBED, c.UNITS, batch_first=True)
        self.head = nn.Linear(c.UNITS, 1)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))
        return self.head(h[-1])  # logits; the sigmoid lives in the loss


def lstm(spec, device):
    x, y = (torch.from_numpy(a).to(device) for a in c.lstm_data(spec))
    model = _TextClassifier().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=FOREACH)

    def correct(logits, yb):
        return ((logits > 0).float() == yb).sum()

    times = _train_epochs(model, optimizer, F.binary_cross_entropy_with_logits, x, y, spec.batch, spec.epochs, correct)
    return {"times": times, "samples": spec.n_train}


class SlowBatches(torch.utils.data.Dataset):
    """Map-style dataset of whole batches; each ``__getitem__`` sleeps (file reading and decoding)."""

    def __init__(self, num, load_s, batch):
        self.num, self.load_s, self.batch = num, load_s, batch

    def __len__(self):
        return self.num

    def __getitem__(self, index):
        x, y = c.slow_batch(index, self.load_s, self.batch)
        return torch.from_numpy(x), torch.from_numpy(y)


def sequence(spec, device):
    num, load_s, workers = c.sequence_sizes(spec)
    loader = torch.utils.data.DataLoader(
        SlowBatches(num, load_s, spec.batch), batch_size=None, shuffle=True, num_workers=workers,
        persistent_workers=True,
    )
    model = nn.Sequential(nn.Linear(c.SEQ_FEATURES, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=FOREACH)
    clock = c.EpochClock()
    for _ in range(spec.epochs):
        clock.begin()
        total = torch.zeros((), device=device)
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.mse_loss(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                total += loss
        float(total)
        clock.end()
    return {"times": clock.times, "samples": num * spec.batch}


def predict(spec, device):
    _, _, xv, _ = c.mlp_data(spec)
    model = _mlp().to(device).eval()

    @torch.no_grad()
    def run():
        x = torch.from_numpy(xv).to(device)
        outs = [torch.softmax(model(x[i : i + spec.batch]), dim=1) for i in range(0, len(x), spec.batch)]
        return torch.cat(outs).cpu().numpy()

    return {"times": c.timed_passes(run, spec.epochs), "samples": spec.n_val}


def evaluate(spec, device):
    _, _, xv, yv = c.mlp_data(spec)
    model = _mlp().to(device)

    def run():
        return _evaluate(model, torch.from_numpy(xv).to(device), torch.from_numpy(yv).to(device), spec.batch)

    return {"times": c.timed_passes(run, spec.epochs), "samples": spec.n_val}

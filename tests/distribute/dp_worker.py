"""Run by the tests under ``torchrun``: ``dp_worker.py all OUT_DIR`` or ``dp_worker.py fail OUT_DIR``.

``all`` writes every scenario's results to ``OUT_DIR/rank<r>.json``; ``fail``
trains with a callback that raises on rank 1 only.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dp_scenarios  # noqa: E402
import ember  # noqa: E402


class _FailOnRankOne(ember.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1 and ember.distribute.rank() == 1:
            raise RuntimeError("rank 1 fails on purpose")


def main(mode, directory):
    rank = ember.distribute.rank()
    os.makedirs(directory, exist_ok=True)
    if mode == "all":
        results = dp_scenarios.run_all(directory, rank)
        with open(os.path.join(directory, f"rank{rank}.json"), "w") as handle:
            json.dump(results, handle)
    elif mode == "fail":
        x, y, _ = dp_scenarios.make_data(64)
        model = dp_scenarios.make_model()
        # Rank 0 goes on into epoch 1 and waits in the gradient exchange for a rank that is gone.
        model.fit(x, y, batch_size=8, epochs=1000, verbose=0, callbacks=[_FailOnRankOne()])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

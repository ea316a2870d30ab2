"""The guide's end-to-end example, in ember: compile → fit with validation → evaluate → predict.

By default it uses the small handwritten-digits set bundled with scikit-learn
(8x8 images, no download). ``--mnist`` downloads MNIST (once, cached in
``~/.ember/datasets``) and falls back to the bundled digits, with a note, when
the download is not possible.

    python examples/guide_end_to_end.py            # offline digits
    python examples/guide_end_to_end.py --mnist    # the guide's MNIST
"""

import argparse
import os

import numpy as np

import ember
from ember import layers


def load_digits():
    """scikit-learn's bundled 8x8 digits, split like the guide splits MNIST."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "The offline demo needs scikit-learn: pip install 'ember[demo]' (or scikit-learn)."
        ) from error
    digits = sklearn_digits()
    x = digits.data.astype("float32") / 16.0
    y = digits.target.astype("float32")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    n_test = 297
    return (x[:-n_test], y[:-n_test]), (x[-n_test:], y[-n_test:])


def load_mnist():
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data(timeout=20)
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255
    return (x_train, y_train.astype("float32")), (x_test, y_test.astype("float32"))


def get_data(use_mnist):
    if use_mnist:
        try:
            return "MNIST", load_mnist()
        except Exception as error:  # noqa: BLE001 - any download failure falls back
            print(f"Note: could not load MNIST ({type(error).__name__}: {error}); using the bundled digits.")
    return "digits (8x8, scikit-learn)", load_digits()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", action="store_true", help="download and use MNIST, as the guide does")
    parser.add_argument("--epochs", type=int, default=None, help="default: 2 on MNIST (as the guide), 10 on digits")
    parser.add_argument("--plot", default="training_curves.png", help="where to save the loss/accuracy curves")
    args = parser.parse_args()

    ember.utils.set_random_seed(1337)  # the same weights, shuffling and numbers on every run
    name, ((x_train, y_train), (x_test, y_test)) = get_data(args.mnist)
    # Reserve samples for validation (the guide keeps the last 10,000 of MNIST's 60,000).
    n_val = 10000 if len(x_train) > 20000 else len(x_train) // 6
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    epochs = args.epochs or (2 if name == "MNIST" else 10)
    print(f"Data: {name}: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test samples")

    inputs = ember.Input(shape=(x_train.shape[1],), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = ember.Model(inputs=inputs, outputs=outputs)
    model.summary()

    model.compile(
        optimizer=ember.optimizers.RMSprop(),  # Optimizer
        loss=ember.losses.SparseCategoricalCrossentropy(),  # Loss function to minimize
        metrics=[ember.metrics.SparseCategoricalAccuracy()],  # List of metrics to monitor
    )

    print("Fit model on training data")
    history = model.fit(
        x_train, y_train, batch_size=64, epochs=epochs, validation_data=(x_val, y_val)
    )
    print("history.history:", history.history)

    print("Evaluate on test data")
    results = model.evaluate(x_test, y_test, batch_size=128)
    print("test loss, test acc:", results)

    print("Generate predictions for 3 samples")
    predictions = model.predict(x_test[:3])
    print("predictions shape:", predictions.shape)

    save_curves(history, args.plot)


def save_curves(history, path):
    try:
        history.plot(path)  # loss and accuracy, train vs validation (ember.utils.plot_history)
    except ImportError as error:
        print(f"Note: skipping the training-curve plot: {error}")
        return
    print(f"Saved training curves to {os.path.abspath(path)}")


if __name__ == "__main__":
    main()

"""The guide's dataset examples, with torch DataLoaders in place of tf.data."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


def get_compiled_model():
    inputs = ember.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = ember.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    return model


class CountingDataset(torch.utils.data.Dataset):
    """MNIST-shaped samples; records which sample indices were read."""

    def __init__(self, n, seed=0):
        rng = np.random.default_rng(seed)
        self.x = rng.random((n, 784), dtype=np.float32)
        self.y = rng.integers(0, 10, n).astype("float32")
        self.reads = []

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.reads.append(i)
        return self.x[i], self.y[i]


def test_fit_and_evaluate_on_datasets():
    train = CountingDataset(640)
    test = CountingDataset(128, seed=1)
    train_dataset = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
    test_dataset = torch.utils.data.DataLoader(test, batch_size=64)
    model = get_compiled_model()
    history = model.fit(train_dataset, epochs=3, verbose=0)
    assert len(history.epoch) == 3 and len(train.reads) == 3 * 640  # restarted every epoch
    result = model.evaluate(test_dataset, verbose=0)
    assert dict(zip(model.metrics_names, result)) == pytest.approx(
        model.evaluate(test.x, test.y, batch_size=64, verbose=0, return_dict=True))


def test_steps_per_epoch_draws_the_next_batches_without_reset():
    train = CountingDataset(64 * 8)
    loader = torch.utils.data.DataLoader(train, batch_size=64)
    model = get_compiled_model()
    model.fit(loader, epochs=3, steps_per_epoch=2, verbose=0)
    assert train.reads == list(range(6 * 64))  # 3 epochs x 2 batches, continuing in order


def test_validation_dataset_and_validation_steps():
    train, val = CountingDataset(256), CountingDataset(64 * 20, seed=2)
    model = get_compiled_model()
    history = model.fit(torch.utils.data.DataLoader(train, batch_size=64), epochs=2,
                        validation_data=torch.utils.data.DataLoader(val, batch_size=64),
                        validation_steps=10, verbose=0)
    # Only the first 10 batches, and the same ones every epoch (the validation set is restarted).
    assert val.reads == list(range(640)) * 2
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(val.x[:640], val.y[:640], batch_size=64, verbose=0)[0], rel=1e-5)


def test_sample_weights_as_third_element_of_dataset_batches():
    train = CountingDataset(128)
    sample_weight = np.ones(len(train.y), "float32")
    sample_weight[train.y == 5] = 2.0
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(train.x), torch.as_tensor(train.y), torch.as_tensor(sample_weight))
    model = get_compiled_model()
    weighted = model.evaluate(torch.utils.data.DataLoader(dataset, batch_size=64), verbose=0, return_dict=True)
    direct = model.evaluate(train.x, train.y, sample_weight=sample_weight, batch_size=64, verbose=0, return_dict=True)
    assert weighted == pytest.approx(direct)


def test_dataset_of_dicts_for_the_multi_input_model():
    image_input = ember.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = ember.Input(shape=(None, 10), name="ts_input")
    x1 = layers.GlobalMaxPooling2D()(layers.Conv2D(3, 3)(image_input))
    x2 = layers.GlobalMaxPooling1D()(layers.Conv1D(3, 3)(timeseries_input))
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    model = ember.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
    model.compile(optimizer=ember.optimizers.RMSprop(1e-3),
                  loss=[ember.losses.MeanSquaredError(), ember.losses.CategoricalCrossentropy()])
    rng = np.random.default_rng(0)
    img, ts = rng.random((20, 32, 32, 3), dtype=np.float32), rng.random((20, 20, 10), dtype=np.float32)
    score, cls = rng.random((20, 1), dtype=np.float32), rng.random((20, 5), dtype=np.float32)

    class DictDataset(torch.utils.data.Dataset):
        def __len__(self):
            return 20

        def __getitem__(self, i):
            return ({"img_input": img[i], "ts_input": ts[i]}, {"score_output": score[i], "class_output": cls[i]})

    history = model.fit(torch.utils.data.DataLoader(DictDataset(), batch_size=8, shuffle=True), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "score_output_loss", "class_output_loss"}
    from_loader = model.evaluate(torch.utils.data.DataLoader(DictDataset(), batch_size=20), verbose=0, return_dict=True)
    from_arrays = model.evaluate({"img_input": img, "ts_input": ts}, {"score_output": score, "class_output": cls},
                                 batch_size=20, verbose=0, return_dict=True)
    assert from_loader == pytest.approx(from_arrays, rel=1e-5)

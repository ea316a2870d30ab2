"""LearningRateScheduler against Keras 3: scripted epochs through the hooks, and real `fit` runs."""

import numpy as np
import pytest
import torch
from fake_training import EmberFakeModel, KerasFakeModel, run_epochs
from keras_parity.harness import dense_model

import ember
from ember.callbacks import CallbackList, LearningRateScheduler


def halve_after_first(epoch, lr):
    return lr if epoch < 1 else lr * 0.5


def inverse_time(epoch):
    return 0.1 / (epoch + 1)


def float32_steps(epoch, lr):
    return np.float32(0.01 * (3 - epoch % 3))


@pytest.mark.parametrize("schedule", [halve_after_first, inverse_time, float32_steps,
                                      lambda epoch, lr=None: 0.02 * (epoch + 1)])
def test_matches_keras_on_scripted_epochs(keras, capsys, schedule):
    logs = [{"loss": 1.0}] * 5
    results = []
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        model = fake(lib, learning_rate=0.01)
        seen = run_epochs(lib.callbacks.LearningRateScheduler(schedule, verbose=1), model, logs)
        results.append(([epoch_logs["learning_rate"] for epoch_logs in seen],
                        float(np.asarray(model.optimizer.learning_rate)), capsys.readouterr().out))
    assert results[0] == results[1]
    assert results[0][2].startswith("\nEpoch 1: LearningRateScheduler setting learning rate to ")


def test_fit_matches_keras_and_each_epoch_trains_with_its_rate(keras, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = np.tanh(x @ rng.normal(size=(4, 1))).astype("float32")
    make = dense_model(4, 1)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    histories, printed = [], []
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1), loss="mse")
        scheduler = lib.callbacks.LearningRateScheduler(halve_after_first, verbose=1)
        histories.append(model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                                   callbacks=[scheduler]).history)
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert sorted(histories[0]) == sorted(histories[1]) == ["learning_rate", "loss"]
    np.testing.assert_allclose(histories[0]["learning_rate"], [0.1, 0.05, 0.025, 0.0125], rtol=1e-6)
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=2e-3, err_msg=key)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=5e-3, atol=1e-5)


def test_torch_optimizer_gets_the_rate_in_every_group():
    model = dense_model(4, 1)(ember)
    optimizer = torch.optim.SGD([{"params": list(model.get_layer("hidden").parameters())},
                                 {"params": list(model.get_layer("outputs").parameters()), "lr": 0.3}], lr=0.1)
    model.compile(optimizer=optimizer, loss="mse")
    x = np.ones((8, 4), "float32")
    history = model.fit(x, x[:, :1], epochs=2, verbose=0, callbacks=[LearningRateScheduler(inverse_time)])
    assert history.history["learning_rate"] == [0.1, 0.05]
    assert [group["lr"] for group in optimizer.param_groups] == [0.05, 0.05]


@pytest.mark.parametrize("value", [1, torch.tensor(0.1), "0.1", None])
def test_schedule_must_return_a_float_like_keras(keras, value):
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        with pytest.raises(ValueError, match="The output of the `schedule` function should be a float. Got: "):
            run_epochs(lib.callbacks.LearningRateScheduler(lambda epoch: value), fake(lib), [{"loss": 1.0}])


def test_a_type_error_inside_a_two_argument_schedule_is_not_hidden():
    def broken(epoch, lr):
        return lr + "x"

    with pytest.raises(TypeError, match="unsupported operand"):
        run_epochs(LearningRateScheduler(broken), EmberFakeModel(ember), [{"loss": 1.0}])


def test_bad_schedule_argument():
    with pytest.raises(TypeError, match=r"expects `schedule` to be a function \(epoch, lr\) -> float, got float"):
        LearningRateScheduler(0.1)


def test_does_not_listen_to_batches():
    assert not CallbackList([LearningRateScheduler(inverse_time)]).needs_train_batch_hooks

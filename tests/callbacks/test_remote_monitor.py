"""RemoteMonitor against Keras 3, both posting to a small HTTP server on a loopback port."""

import http.server
import json
import socket
import threading
import urllib.parse
import warnings

import numpy as np
import pytest

import ember
from ember.callbacks import CallbackList, RemoteMonitor


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the handler API's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.requests, httpd.status = [], 200
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _root(httpd):
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def _post_epochs(lib, httpd, epochs, **kwargs):
    monitor = lib.callbacks.RemoteMonitor(root=_root(httpd), **kwargs)
    for epoch, logs in enumerate(epochs):
        monitor.on_epoch_end(epoch, dict(logs))
    requests = httpd.requests[:]
    httpd.requests.clear()
    return requests


EPOCHS = [{"loss": 0.5, "val_loss": 0.75}, {"loss": np.float32(0.25), "accuracy": np.float64(0.5)}]


@pytest.mark.parametrize("kwargs", [{}, {"send_as_json": True}, {"field": "payload", "path": "/x/"},
                                    {"headers": {"X-Token": "abc"}, "send_as_json": True}])
def test_posts_the_same_request_as_keras(keras, server, kwargs):
    ours = _post_epochs(ember, server, EPOCHS, **kwargs)
    theirs = _post_epochs(keras, server, EPOCHS, **kwargs)
    assert len(ours) == len(theirs) == 2
    for mine, keras_request in zip(ours, theirs):
        assert mine["path"] == keras_request["path"] == kwargs.get("path", "/publish/epoch/end/")
        for header in ("Content-Type", "X-Token"):
            assert mine["headers"].get(header) == keras_request["headers"].get(header)
        assert mine["body"] == keras_request["body"]


def test_payload_holds_the_epoch_and_the_logs(server):
    (form,) = _post_epochs(ember, server, [{"loss": 0.5, "f1": np.array([0.25, 0.5], "float32")}])
    assert form["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    fields = urllib.parse.parse_qs(form["body"].decode())
    # A multi-valued metric is sent as a list (Keras cannot serialize it).
    assert json.loads(fields["data"][0]) == {"epoch": 0, "loss": 0.5, "f1": [0.25, 0.5]}
    (as_json,) = _post_epochs(ember, server, [{"loss": 0.5}], send_as_json=True)
    assert as_json["headers"]["Content-Type"] == "application/json"
    assert json.loads(as_json["body"]) == {"epoch": 0, "loss": 0.5}


def test_fit_posts_once_per_epoch(server):
    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 2), "float32")
    model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[RemoteMonitor(root=_root(server), send_as_json=True)])
    assert [json.loads(r["body"])["epoch"] for r in server.requests] == [0, 1, 2]
    assert all(set(json.loads(r["body"])) == {"epoch", "loss"} for r in server.requests)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_warns_like_keras_and_training_goes_on(keras):
    root = f"http://127.0.0.1:{_closed_port()}"
    messages = []
    for lib in (ember, keras):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.callbacks.RemoteMonitor(root=root).on_epoch_end(0, {"loss": 1.0})
        messages.append([str(w.message) for w in record if w.category is UserWarning])
    assert messages[0] == messages[1] == [f"Could not reach RemoteMonitor root server at {root}"]


def test_an_error_status_is_not_a_warning_like_keras(keras, server):
    server.status = 500
    for lib in (ember, keras):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            lib.callbacks.RemoteMonitor(root=_root(server)).on_epoch_end(0, {"loss": 1.0})
    assert len(server.requests) == 2


def test_reads_only_epoch_logs():
    assert not CallbackList([RemoteMonitor()]).needs_train_batch_hooks

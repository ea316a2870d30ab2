"""`RemoteMonitor`: POST every epoch's logs to an HTTP server."""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np
import torch

from ember.callbacks.callback import Callback

__all__ = ["RemoteMonitor"]


def _jsonable(value):
    """Python numbers (and lists for multi-valued metrics) for NumPy values and tensors."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


class RemoteMonitor(Callback):
    """Sends the epoch logs to a server with an HTTP POST at the end of every epoch.

    The payload is a JSON object with `epoch` (0-based) and every log value.
    By default it is sent as a form field (`application/x-www-form-urlencoded`
    body `<field>=<JSON>`); with `send_as_json=True` the JSON object itself is
    the body (`application/json`). Only the standard library is used. When
    the server cannot be reached, a warning is issued and training goes on;
    the server's HTTP status is not checked (as in Keras).

    Args:
        root: The server's root URL. Defaults to `"http://localhost:9000"`.
        path: Path relative to `root`. Defaults to `"/publish/epoch/end/"`.
        field: The form field holding the JSON data. Defaults to `"data"`.
        headers: Optional dict of extra HTTP headers.
        send_as_json: Send the logs as a JSON body instead of a form field.
            Defaults to `False`.

    Example:
        >>> monitor = RemoteMonitor(root="http://127.0.0.1:9000", send_as_json=True)
        >>> monitor.root + monitor.path
        'http://127.0.0.1:9000/publish/epoch/end/'
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _request(self, payload):
        if self.send_as_json:
            body = json.dumps(payload).encode("utf-8")
            content_type = "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(payload)}).encode("utf-8")
            content_type = "application/x-www-form-urlencoded"
        headers = {"Content-Type": content_type}
        headers.update(self.headers or {})
        return urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")

    def on_epoch_end(self, epoch, logs=None):
        payload = {"epoch": epoch}
        for key, value in (logs or {}).items():
            payload[key] = _jsonable(value)
        try:
            with urllib.request.urlopen(self._request(payload)) as response:
                response.read()
        except urllib.error.HTTPError as error:
            error.close()  # the server answered: its status is not checked
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)

"""Download-once file cache with SHA-256 verification and atomic writes."""

import hashlib
import os
import shutil
import tempfile
import urllib.request

__all__ = ["cache_dir", "get_file"]


def cache_dir():
    """``$EMBER_HOME/datasets`` if set, else ``~/.ember/datasets``."""
    root = os.environ.get("EMBER_HOME") or os.path.join(os.path.expanduser("~"), ".ember")
    return os.path.join(root, "datasets")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def get_file(fname, origin, file_hash, cache_subdir=None, timeout=60):
    """Return a local path to ``fname``, downloading it from ``origin`` if missing.

    A cached file whose SHA-256 does not match ``file_hash`` is downloaded
    again; a download that does not match raises ``ValueError`` and leaves no
    file behind. The file is written to a temporary name and renamed, so an
    interrupted download never leaves a partial file at ``fname``.
    """
    if os.path.isabs(fname):
        path = fname
    else:
        directory = cache_subdir or cache_dir()
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, fname)
    if os.path.exists(path) and _sha256(path) == file_hash:
        return path
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        actual = _sha256(tmp)
        if actual != file_hash:
            raise ValueError(
                f"Downloaded file from {origin} has SHA-256 {actual}, expected {file_hash}. The download "
                "is corrupt or the origin changed; nothing was saved."
            )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path

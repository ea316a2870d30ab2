"""Atomic file writes: a file is either completely written or not changed at all."""

import os
import tempfile

__all__ = ["atomic_write", "check_overwrite"]


def check_overwrite(path, overwrite):
    """Refuse to replace an existing file when ``overwrite=False``."""
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False. Pass overwrite=True to replace it.")


def atomic_write(path, write):
    """Call ``write(handle)`` on a temporary file next to ``path``, then move it into place.

    The temporary file lives in the same directory, so the final
    ``os.replace`` is atomic: readers see the old file or the new one, never a
    partial one. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to {path!r}: the directory {directory!r} does not exist.")
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        os.chmod(temporary, _file_mode(path))  # mkstemp makes it private (0600)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_directory(directory)


def _file_mode(path):
    """The replaced file's mode, else what a plain ``open(path, "w")`` would give."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

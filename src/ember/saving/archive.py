"""The ``.ember`` model file: a zip archive whose members are checked on load.

Members:

* ``metadata.json``: the format name and version, the ember version, the
  date, and the SHA-256 and size of every other member;
* ``config.json``: the architecture;
* ``model.weights.safetensors``: the weights;
* ``compile.json`` and ``optimizer.safetensors`` (compiled models): the
  ``compile()`` arguments and the optimizer's state.

The archive is written to a temporary file and moved into place, and every
member is verified against its checksum before anything is rebuilt.
"""

import datetime
import hashlib
import json
import zipfile
import zlib

from ember.saving.atomic import atomic_write, check_overwrite

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "read_archive", "write_archive"]

FORMAT_NAME = "ember.model"
FORMAT_VERSION = 1
METADATA = "metadata.json"
REQUIRED_MEMBERS = ("config.json", "model.weights.safetensors")
OPTIONAL_MEMBERS = ("compile.json", "optimizer.safetensors")

MSG_NOT_ARCHIVE = (
    "{path!r} is not an ember model file, or it is truncated or corrupted: it is not a readable zip "
    "archive ({error}). Model files are written by model.save('name.ember')."
)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_archive(path, members, overwrite=True):
    """Write ``members`` (name -> bytes) and their metadata to ``path``, atomically."""
    from ember import __version__

    check_overwrite(path, overwrite)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "ember_version": __version__,
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "members": {name: {"sha256": _sha256(data), "size": len(data)} for name, data in members.items()},
    }

    def write(handle):
        with zipfile.ZipFile(handle, "w") as archive:
            archive.writestr(METADATA, json.dumps(metadata, indent=2), compress_type=zipfile.ZIP_DEFLATED)
            for name, data in members.items():
                # Arrays barely compress; the JSON members do.
                compression = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
                archive.writestr(name, data, compress_type=compression)

    atomic_write(path, write)


def _read_member(archive, name, path):
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise ValueError(f"{path!r}: member {name!r} cannot be read, the file is corrupted or truncated ({error}).") from None


def _check_metadata(metadata, path):
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        got = metadata.get("format") if isinstance(metadata, dict) else metadata
        raise ValueError(
            f"{path!r} is not an ember model file: metadata.json has format {got!r}, expected {FORMAT_NAME!r}."
        )
    version = metadata.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(
            f"{path!r} has ember model format version {version!r} (written by ember "
            f"{metadata.get('ember_version')!r}); this ember reads format version {FORMAT_VERSION}. "
            "Load it with the ember version that wrote it, or upgrade ember."
        )
    listed = metadata.get("members")
    if not isinstance(listed, dict):
        raise ValueError(f"{path!r}: metadata.json has no 'members' table of checksums; the file is corrupted.")
    missing = [name for name in REQUIRED_MEMBERS if name not in listed]
    unknown = [name for name in listed if name not in REQUIRED_MEMBERS + OPTIONAL_MEMBERS]
    if missing or unknown:
        raise ValueError(
            f"{path!r}: metadata.json lists members {sorted(listed)}; missing {missing}, unknown {unknown}. "
            f"An ember model file holds {list(REQUIRED_MEMBERS)} and optionally {list(OPTIONAL_MEMBERS)}."
        )
    return listed


def read_archive(path):
    """``(metadata, members)`` of an ember model file, every member checked against its SHA-256.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a zip archive, not an ember file, an unsupported
            format version, or a missing, unreadable or altered member (the
            message names it, with the expected and actual checksums).
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"No model file at filepath={path!r}.") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(MSG_NOT_ARCHIVE.format(path=path, error=error)) from None
    with archive:
        names = archive.namelist()
        if METADATA not in names:
            raise ValueError(
                f"{path!r} is not an ember model file: the archive has no {METADATA} (it holds {names[:5]})."
            )
        try:
            metadata = json.loads(_read_member(archive, METADATA, path))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path!r}: {METADATA} is not valid JSON ({error}); the file is corrupted.") from None
        listed = _check_metadata(metadata, path)
        members = {}
        for name, info in listed.items():
            if name not in names:
                raise ValueError(f"{path!r}: member {name!r} listed in {METADATA} is missing; the file is truncated.")
            data = _read_member(archive, name, path)
            expected = info.get("sha256") if isinstance(info, dict) else None
            actual = _sha256(data)
            if actual != expected:
                raise ValueError(
                    f"{path!r}: member {name!r} is corrupted: its SHA-256 is {actual}, expected {expected} "
                    f"(from {METADATA}). The file was altered or damaged after saving."
                )
            members[name] = data
        extra = [name for name in names if name != METADATA and name not in listed]
        if extra:
            raise ValueError(f"{path!r}: the archive holds members {extra} that {METADATA} does not list.")
    return metadata, members

"""Damaged, truncated, foreign and future files are refused clearly; saves are atomic."""

import json
import os
import zipfile

import pytest

import ember
from ember import layers
from ember.saving.archive import read_archive, write_archive


def _model():
    inputs = ember.Input(shape=(3,))
    model = ember.Model(inputs, layers.Dense(2)(inputs))
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.ember"
    _model().save(path)
    return path


def _rewrite_member(path, name, transform):
    """Rewrite one member as a valid zip entry, keeping the old metadata.json (so only the checksum can tell)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    members[name] = transform(members[name])
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def test_altered_member_fails_its_checksum(saved):
    _rewrite_member(saved, "model.weights.safetensors", lambda data: data[:-4] + b"\x00\x00\x80\x3f")
    with pytest.raises(ValueError, match=r"member 'model.weights.safetensors' is corrupted: its SHA-256 is [0-9a-f]{64}, expected [0-9a-f]{64}"):
        ember.models.load_model(saved)


def test_flipped_byte_on_disk_names_the_member(saved):
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("model.weights.safetensors")
    data = bytearray(saved.read_bytes())
    # The weights are stored uncompressed: flip a byte inside their data.
    position = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 2
    data[position] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="member 'model.weights.safetensors' (cannot be read|is corrupted)"):
        ember.models.load_model(saved)


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not an ember model file, or it is truncated or corrupted"):
        ember.models.load_model(saved)


def test_wrong_format_files(tmp_path):
    weights = tmp_path / "w.weights.safetensors"
    _model().save_weights(weights)
    impostor = tmp_path / "impostor.ember"
    impostor.write_bytes(weights.read_bytes())
    with pytest.raises(ValueError, match="not a readable zip archive"):
        ember.models.load_model(impostor)

    other_zip = tmp_path / "other.ember"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("model.json", "{}")
    with pytest.raises(ValueError, match=r"no metadata.json \(it holds \['model.json'\]\)"):
        ember.models.load_model(other_zip)

    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"format": "keras", "keras_version": "3.15.1"}))
    with pytest.raises(ValueError, match="metadata.json has format 'keras', expected 'ember.model'"):
        ember.models.load_model(other_zip)


def test_newer_format_version(saved):
    _, members = read_archive(saved)
    _rewrite_member(saved, "metadata.json", lambda data: json.dumps({**json.loads(data), "format_version": 7}).encode())
    with pytest.raises(ValueError, match=r"format version 7 \(written by ember '0.1.0'\); this ember reads format version 1"):
        ember.models.load_model(saved)
    assert sorted(members) == ["compile.json", "config.json", "model.weights.safetensors", "optimizer.safetensors"]


def test_missing_member(saved):
    with zipfile.ZipFile(saved) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name != "compile.json"}
    with zipfile.ZipFile(saved, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="member 'compile.json' listed in metadata.json is missing"):
        ember.models.load_model(saved)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        ember.models.load_model(tmp_path / "nothing.ember")


def _leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def test_failed_save_leaves_the_old_file_and_no_temporary(saved, monkeypatch):
    before = saved.read_bytes()
    original = zipfile.ZipFile.writestr
    calls = []

    def failing_writestr(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    model = _model()
    with pytest.raises(OSError, match="disk full"):
        model.save(saved)
    assert calls[:2] == ["metadata.json", "config.json"]  # it failed half-way through
    assert saved.read_bytes() == before
    assert _leftovers(saved.parent) == []
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        model.save(saved.parent / "new.ember")
    assert not (saved.parent / "new.ember").exists() and _leftovers(saved.parent) == []


def test_failed_weights_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        _model().save_weights(tmp_path / "w.weights.safetensors")
    assert os.listdir(tmp_path) == []


def test_unsaveable_model_writes_nothing(tmp_path):
    inputs = ember.Input(shape=(3,))
    model = ember.Model(inputs, layers.Dense(2, activation=lambda x: x * 2)(inputs))
    with pytest.raises(ValueError, match="lambdas .* ember files store names only.*register_serializable"):
        model.save(tmp_path / "m.ember")
    assert os.listdir(tmp_path) == []


def test_saved_file_gets_the_usual_permissions(saved):
    reference = saved.parent / "reference"
    reference.write_bytes(b"")
    assert saved.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_archive_members_round_trip(tmp_path):
    members = {"config.json": b"{}", "model.weights.safetensors": b"\x00" * 10}
    write_archive(tmp_path / "x.ember", members)
    metadata, read = read_archive(tmp_path / "x.ember")
    assert read == members and metadata["members"]["config.json"]["size"] == 2
    assert sorted(zipfile.ZipFile(tmp_path / "x.ember").namelist()) == sorted(["metadata.json", *members])

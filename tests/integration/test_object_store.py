"""One behaviour suite for both object stores: local directory and S3 (moto server)."""

from __future__ import annotations

import hashlib
import io
import os
import uuid

import boto3
import pytest

from data.storage import LocalStore, ObjectNotFound, S3Store

LARGE_SIZE = 9 * 1024 * 1024 + 12_345  # above boto3's 8 MB multipart threshold


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each test runs once per backend, on an empty store."""
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"ib-store-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return S3Store(bucket, endpoint_url=endpoint)


def put_bytes(store, key: str, data: bytes) -> int:
    """Store bytes through the streaming interface."""
    return store.put(key, io.BytesIO(data))


def test_put_then_get_open_and_exists(store):
    assert put_bytes(store, "datasets/u1/d1/v1/source.csv", b"a,b\n1,2\n") == 8
    assert store.get("datasets/u1/d1/v1/source.csv") == b"a,b\n1,2\n"
    with store.open("datasets/u1/d1/v1/source.csv") as stream:
        assert stream.read(4) == b"a,b\n"
        assert stream.read() == b"1,2\n"
    assert store.exists("datasets/u1/d1/v1/source.csv") is True
    store.check()


def test_put_overwrites_and_empty_objects_are_objects(store):
    put_bytes(store, "reports/r.txt", b"old contents")
    put_bytes(store, "reports/r.txt", b"new")
    assert store.get("reports/r.txt") == b"new"
    assert put_bytes(store, "reports/empty.txt", b"") == 0
    assert store.exists("reports/empty.txt") and store.get("reports/empty.txt") == b""


def test_missing_keys_and_prefixes_are_not_objects(store):
    put_bytes(store, "a/b/c.txt", b"x")
    for key in ("missing.txt", "a/b", "a"):
        assert store.exists(key) is False
        with pytest.raises(ObjectNotFound):
            store.get(key)
        with pytest.raises(ObjectNotFound):
            store.open(key)


def test_delete_removes_one_object_and_ignores_missing_ones(store):
    put_bytes(store, "a/one.txt", b"1")
    put_bytes(store, "a/two.txt", b"2")
    store.delete("a/one.txt")
    store.delete("a/one.txt")
    store.delete("never/existed.txt")
    store.delete("a")  # a prefix, not an object: nothing happens
    assert store.list() == ["a/two.txt"]


def test_list_is_sorted_and_filters_by_string_prefix(store):
    keys = ["b/2.csv", "a/1.csv", "ab/3.csv", "a/sub/4.csv", "tmpdata.csv"]
    for key in keys:
        put_bytes(store, key, key.encode())
    assert store.list() == sorted(keys)
    assert store.list("a/") == ["a/1.csv", "a/sub/4.csv"]
    assert store.list("a") == ["a/1.csv", "a/sub/4.csv", "ab/3.csv"]
    assert store.list("zzz") == []


def test_delete_prefix_removes_only_that_prefix_and_counts(store):
    for key in ["d/u1/x1/v1/s.csv", "d/u1/x1/v2/s.csv", "d/u1/x2/v1/s.csv"]:
        put_bytes(store, key, b"data")
    assert store.delete_prefix("d/u1/x1/") == 2
    assert store.list() == ["d/u1/x2/v1/s.csv"]
    assert store.delete_prefix("d/u1/x1/") == 0


def test_large_upload_round_trips_intact(store):
    data = os.urandom(LARGE_SIZE)
    assert put_bytes(store, "big/blob.bin", data) == LARGE_SIZE
    digest = hashlib.sha256()
    with store.open("big/blob.bin") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert store.list() == ["big/blob.bin"]


def test_large_upload_to_s3_uses_multipart(s3_endpoint):
    bucket = f"ib-multi-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    store = S3Store(bucket, endpoint_url=s3_endpoint)
    put_bytes(store, "big/blob.bin", os.urandom(LARGE_SIZE))
    etag = client.head_object(Bucket=bucket, Key="big/blob.bin")["ETag"]
    assert etag.strip('"').endswith("-2")  # two parts: 8 MB + the rest


class TricklingStream:
    """Returns at most 1000 bytes per read, like a socket or a request body."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self.buffer.read(1000 if size is None or size < 0 else min(size, 1000))


def test_short_reads_are_not_mistaken_for_the_end_of_the_stream(store):
    data = os.urandom(25_000)
    assert store.put("trickle/data.bin", TricklingStream(data)) == len(data)
    assert store.get("trickle/data.bin") == data


class FailingStream:
    """Yields some bytes, then fails like a dropped connection."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise ConnectionResetError("client went away")
        return b"x" * 1024


def test_a_failed_upload_leaves_no_object_and_no_stray_file(store, tmp_path):
    with pytest.raises(ConnectionResetError):
        store.put("partial/upload.csv", FailingStream())
    assert store.exists("partial/upload.csv") is False
    assert store.list() == []
    if isinstance(store, LocalStore):
        assert [p for p in store.root.rglob("*") if p.is_file()] == []


UNSAFE_KEYS = [
    "../x",
    "a/../../x",
    "/etc/passwd",
    "a//b",
    "",
    ".hidden",
    "a/./b",
    "a/",
    "x\n",
    "a\\b",
    "a b",
    "ü.csv",
    "a/.upload-123",
    "k" * 1025,
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_rejected_by_every_operation(store, tmp_path, key):
    operations = [
        lambda: store.put(key, io.BytesIO(b"evil")),
        lambda: store.get(key),
        lambda: store.open(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.url(key),
    ]
    for operation in operations:
        with pytest.raises(ValueError, match="unsafe object key"):
            operation()
    assert store.list() == []
    assert not (tmp_path / "x").exists()

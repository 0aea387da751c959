"""Object storage: S3 through boto3, or a local directory with the same interface."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

import boto3
import botocore.config
import botocore.exceptions

# Every path segment starts with a letter or digit: no "..", no ".", no hidden files,
# no empty segments, so a key can never leave the store or name a temporary file.
SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_KEY_LENGTH = 1024
TEMPORARY_PREFIX = ".upload-"


class ObjectNotFound(KeyError):
    """The key does not exist in the store."""


def validate_key(key: str) -> str:
    """Accept only server-made keys: no '..', no absolute paths, a safe alphabet."""
    if (
        not isinstance(key, str)
        or not 0 < len(key) <= MAX_KEY_LENGTH
        or not all(SAFE_SEGMENT.fullmatch(part) for part in key.split("/"))
    ):
        raise ValueError(f"unsafe object key: {key!r}")
    return key


class ObjectStore(Protocol):
    """What the app needs from object storage."""

    def put(self, key: str, stream: BinaryIO) -> int: ...
    def open(self, key: str) -> BinaryIO: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def check(self) -> None: ...
    def url(self, key: str) -> str: ...
    def download_url(
        self, key: str, seconds: int, filename: str, content_type: str
    ) -> str | None: ...


class LocalStore:
    """Objects as files below one directory; writes are atomic (temp file + rename)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, stream: BinaryIO) -> int:
        """Store a stream under key; return the number of bytes written."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=TEMPORARY_PREFIX, delete=False
        ) as temporary:
            try:
                for chunk in iter(lambda: stream.read(1024 * 1024), b""):
                    temporary.write(chunk)
                    size += len(chunk)
            except BaseException:
                # A failed upload leaves neither a partial object nor a stray file.
                temporary.close()
                os.unlink(temporary.name)
                raise
        os.replace(temporary.name, path)
        return size

    def open(self, key: str) -> BinaryIO:
        """Open an object for streaming reads."""
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            # A "directory" is only a key prefix, as in S3: not an object.
            raise ObjectNotFound(key) from error

    def get(self, key: str) -> bytes:
        """Read a whole object."""
        with self.open(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        """True when the key exists."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Delete one object; deleting a missing key is not an error."""
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            self._path(key).unlink()

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object below prefix; return how many were deleted."""
        keys = self.list(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with prefix, sorted."""
        keys = [
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(TEMPORARY_PREFIX)
        ]
        return sorted(key for key in keys if key.startswith(prefix))

    def check(self) -> None:
        """Raise when the directory is not writable."""
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")

    def url(self, key: str) -> str:
        """A file URL for the object (for display; never served directly)."""
        return self._path(key).as_uri()

    def download_url(
        self, key: str, seconds: int, filename: str, content_type: str
    ) -> str | None:
        """None: a local object is served by an authorised route of the app."""
        return None


class S3Store:
    """Objects in an S3 bucket (AWS or MinIO through S3_ENDPOINT_URL)."""

    def __init__(
        self, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1"
    ) -> None:
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=botocore.config.Config(
                connect_timeout=3, read_timeout=30, retries={"max_attempts": 2}
            ),
        )

    def put(self, key: str, stream: BinaryIO) -> int:
        """Store a stream under key (multipart for large files); return its size."""
        counter = _CountingReader(stream)
        self.client.upload_fileobj(counter, self.bucket, validate_key(key))
        return counter.size

    def open(self, key: str) -> BinaryIO:
        """Open an object for streaming reads."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=validate_key(key))
        except self.client.exceptions.NoSuchKey as error:
            raise ObjectNotFound(key) from error
        return response["Body"]

    def get(self, key: str) -> bytes:
        """Read a whole object."""
        return self.open(key).read()

    def exists(self, key: str) -> bool:
        """True when the key exists."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        """Delete one object; deleting a missing key is not an error."""
        self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object below prefix; return how many were deleted."""
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            # delete_objects reports per-key failures in the body, not as an error.
            if response.get("Errors"):
                raise OSError(f"could not delete {len(response['Errors'])} objects")
        return len(keys)

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with prefix, sorted."""
        paginator = self.client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def check(self) -> None:
        """Raise when the bucket cannot be reached."""
        self.client.head_bucket(Bucket=self.bucket)

    def url(self, key: str) -> str:
        """The s3:// address of the object."""
        return f"s3://{self.bucket}/{validate_key(key)}"

    def download_url(
        self, key: str, seconds: int, filename: str, content_type: str
    ) -> str | None:
        """A presigned GET that expires after `seconds`, saved as `filename`."""
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": validate_key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": content_type,
            },
            ExpiresIn=seconds,
        )


class _CountingReader:
    """Wraps a stream, counts the bytes read, and never returns a short read early."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        # boto3 takes a short read for the end of the file, but sockets and request
        # streams may return fewer bytes than asked: keep reading until EOF.
        if size is None or size < 0:
            data = self.stream.read()
        else:
            parts, remaining = [], size
            while remaining > 0:
                chunk = self.stream.read(remaining)
                if not chunk:
                    break
                parts.append(chunk)
                remaining -= len(chunk)
            data = b"".join(parts)
        self.size += len(data)
        return data


def create_store(settings) -> ObjectStore:
    """S3 when a bucket is configured, the local directory store otherwise."""
    if settings.s3_bucket:
        return S3Store(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region)
    return LocalStore(settings.local_store_dir)

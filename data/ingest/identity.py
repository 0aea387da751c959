"""Identifier columns are kept only as keyed hashes (HMAC-SHA256, per dataset).

The per-dataset key is derived from the app's SECRET_KEY and the dataset id, so it
is never stored next to the hashes: a copy of the database alone cannot test
guessed identifiers against them. Distinct counts work on the hashes unchanged.
Missing identifiers ('') stay '' and are not counted as a distinct value.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

HASH_HEX = 16  # 64 bits: collisions are negligible below billions of distinct ids


def dataset_secret(secret_key: str, dataset_id: str) -> bytes:
    """The HMAC key of one dataset's identifiers."""
    message = f"insightboard-identifiers-v1:{dataset_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).digest()


def hash_identifier(value: str, secret: bytes) -> str:
    """One identifier's keyed hash ('' stays '')."""
    if value == "":
        return ""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:HASH_HEX]


def hash_identifiers(values: np.ndarray, secret: bytes) -> np.ndarray:
    """Keyed hashes of an array of identifier texts (each distinct value once)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype="object"), sort=False)
    hashed = np.array(
        [hash_identifier(str(value), secret) for value in uniques], dtype=object
    )
    return hashed[codes] if len(codes) else np.array([], dtype=object)

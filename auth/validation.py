"""Input checks for auth requests: JSON bodies, e-mail addresses, passwords."""

from __future__ import annotations

import re

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from auth.passwords import password_problem
from data.errors import TooLarge, UnsupportedMedia, ValidationFailed

MAX_BODY_BYTES = 16 * 1024
MAX_EMAIL_LENGTH = 254
# Dot-atom local part and LDH domain labels, ASCII only: look-alike Unicode letters
# (Cyrillic "а" for Latin "a") cannot slip into an address this way.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_PATTERN = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)


def email_problem(raw: str) -> str | None:
    """Why `raw` is not an acceptable e-mail address, or None."""
    value = raw.strip(" ")
    if not value:
        return "Enter your e-mail address."
    if len(value) > MAX_EMAIL_LENGTH:
        return f"E-mail address must be at most {MAX_EMAIL_LENGTH} characters."
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return "E-mail address must not contain line breaks or control characters."
    if not value.isascii():
        return (
            "E-mail address must use plain ASCII characters "
            "(write international domains in their xn-- form)."
        )
    if not EMAIL_PATTERN.fullmatch(value) or len(value.split("@")[0]) > 64:
        return "Enter a valid e-mail address, like name@example.com."
    return None


def normalise_email(raw: str) -> str:
    """The stored form of a valid address: surrounding spaces removed, lower case."""
    return raw.strip(" ").lower()


def read_json_object(request: Request) -> dict:
    """The request's JSON object body, or a clear 4xx error."""
    if request.mimetype != "application/json":
        raise UnsupportedMedia("Send a JSON body with Content-Type: application/json.")
    # Flask raises 413 while reading anything larger; auth bodies are tiny.
    request.max_content_length = MAX_BODY_BYTES
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge as error:
        raise TooLarge(
            f"The request body is too large (at most {MAX_BODY_BYTES // 1024} KB)."
        ) from error
    if not data:
        raise ValidationFailed("The request body is empty; send a JSON object.")
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationFailed("The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    return body


def string_fields(body: dict, names: tuple[str, ...]) -> tuple[dict, dict]:
    """The named fields as strings, and per-field errors for missing/non-strings."""
    values, errors = {}, {}
    for name in names:
        value = body.get(name)
        if value is None:
            errors[name] = "This field is required."
        elif not isinstance(value, str):
            errors[name] = "Must be a string."
        else:
            values[name] = value
    return values, errors


def raise_for_fields(errors: dict) -> None:
    """Raise one ValidationFailed naming every bad field, when there is any."""
    if errors:
        first = next(iter(errors.values()))
        raise ValidationFailed(first, details={"fields": errors})


def registration_input(body: dict) -> tuple[str, str]:
    """Validated (normalised e-mail, password) for a registration."""
    values, errors = string_fields(body, ("email", "password"))
    if "email" in values and (problem := email_problem(values["email"])):
        errors["email"] = problem
    if "password" in values and (problem := password_problem(values["password"])):
        errors["password"] = problem
    raise_for_fields(errors)
    return normalise_email(values["email"]), values["password"]


def login_input(body: dict) -> tuple[str, str]:
    """Validated (normalised e-mail, password) for a sign-in attempt."""
    values, errors = string_fields(body, ("email", "password"))
    if "email" in values and (problem := email_problem(values["email"])):
        errors["email"] = problem
    if "password" in values and not values["password"]:
        errors["password"] = "Enter your password."
    raise_for_fields(errors)
    return normalise_email(values["email"]), values["password"]

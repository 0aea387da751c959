"""api.errors.error_response: details are data and never clash with its arguments."""

from __future__ import annotations

from flask import Flask

from api.errors import error_response


def test_details_named_like_arguments_are_fields_of_the_error():
    with Flask(__name__).app_context():
        response, status = error_response(
            409, "conflict", "Not ready.", {"status": "processing", "retry": 1}
        )
    assert status == 409
    assert response.get_json() == {
        "error": {
            "code": "conflict",
            "message": "Not ready.",
            "status": "processing",
            "retry": 1,
        }
    }


def test_details_cannot_replace_the_code_or_the_message():
    with Flask(__name__).app_context():
        response, _ = error_response(
            400, "bad_request", "Real.", {"code": "other", "message": "Fake."}
        )
    assert response.get_json()["error"] == {"code": "bad_request", "message": "Real."}

"""Field checks shared by the auth forms (the same rules the services apply)."""

from __future__ import annotations

from dash import Input, Output

from auth.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from auth.validation import email_problem

# Runs in the browser so passwords are not sent to the server on each keystroke.
# Lengths count code points after NFC, exactly like auth.passwords.password_problem.
PASSWORD_CHECK_JS = f"""
function(value) {{
    const length = [...(value || "").normalize("NFC")].length;
    if (length === 0) {{ return [false, false, ""]; }}
    if (length < {MIN_LENGTH}) {{
        return [true, false,
            "Too short: at least {MIN_LENGTH} characters (" +
            ({MIN_LENGTH} - length) + " more)."];
    }}
    if (length > {MAX_LENGTH}) {{
        return [true, false, "Too long: at most {MAX_LENGTH} characters."];
    }}
    return [false, true, ""];
}}
"""
CONFIRM_CHECK_JS = """
function(confirm, password, blurs) {
    if (!confirm) { return [false, false, ""]; }
    const typedEnough = (confirm || "").length >= (password || "").length;
    if (confirm === password) { return [false, true, ""]; }
    if (typedEnough || blurs) { return [true, false, "Passwords do not match."]; }
    return [false, false, ""];
}
"""


def email_feedback(value: object, blurs: int | None) -> tuple[bool, bool, str]:
    """(invalid, valid, message) for an e-mail field; errors wait for the first blur."""
    if not isinstance(value, str) or not value:
        return False, False, ""
    problem = email_problem(value)
    if problem is None:
        return False, True, ""
    return bool(blurs), False, problem


def register_email_check(app, input_id: str, feedback_id: str) -> None:
    """Validate an e-mail field as the user types (after they first leave it)."""

    @app.callback(
        Output(input_id, "invalid"),
        Output(input_id, "valid"),
        Output(feedback_id, "children"),
        Input(input_id, "value"),
        Input(input_id, "n_blur"),
        prevent_initial_call=True,
    )
    def check_email(value, blurs):
        return email_feedback(value, blurs)


def register_password_checks(
    app, password: tuple[str, str], confirm: tuple[str, str]
) -> None:
    """Live length and match checks for a (password, confirmation) pair of fields."""
    password_id, password_feedback = password
    confirm_id, confirm_feedback = confirm
    app.clientside_callback(
        PASSWORD_CHECK_JS,
        Output(password_id, "invalid"),
        Output(password_id, "valid"),
        Output(password_feedback, "children"),
        Input(password_id, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        CONFIRM_CHECK_JS,
        Output(confirm_id, "invalid"),
        Output(confirm_id, "valid"),
        Output(confirm_feedback, "children"),
        Input(confirm_id, "value"),
        Input(password_id, "value"),
        Input(confirm_id, "n_blur"),
        prevent_initial_call=True,
    )


def passwords_problem(password: object, confirm: object) -> str | None:
    """The first problem with a new password and its confirmation, or None."""
    if not isinstance(password, str) or not password:
        return "Choose a password."
    if problem := password_problem(password):
        return problem
    if password != confirm:
        return "Passwords do not match."
    return None

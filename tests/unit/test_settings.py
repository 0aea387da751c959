"""Settings: typed values from the environment, defaults, and production refusals."""

from __future__ import annotations

import pytest

from config import DEFAULT_SECRET_KEY, Settings, SettingsError, load_settings

STRONG_SECRET = "k" * 24 + "-0123456789"  # 35 characters


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No setting leaks in from the caller's environment or a developer's .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_run_locally_without_any_service_configured():
    settings = load_settings()
    assert settings.app_env == "development"
    assert (settings.host, settings.port) == ("127.0.0.1", 8050)
    assert settings.secret_key == DEFAULT_SECRET_KEY
    assert settings.in_process_mongo is True
    assert settings.redis_url is None
    assert settings.s3_bucket is None
    assert settings.trusted_proxy_count == 0
    assert settings.max_upload_bytes == 200 * 1024 * 1024


def test_environment_variables_are_read_and_typed(monkeypatch):
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("MONGO_URI", "mongodb://mongo:27017")
    monkeypatch.setenv("MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.host == "0.0.0.0"
    assert settings.in_process_mongo is False
    assert settings.max_upload_bytes == 5 * 1024 * 1024
    assert settings.session_cookie_secure is True
    assert settings.trusted_proxy_count == 1


def test_overrides_win_over_environment_which_wins_over_dotenv(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("PORT=9001\nMONGO_DB=from_dotenv\nMAX_ROWS=7\n")
    monkeypatch.setenv("PORT", "9002")
    settings = load_settings({"max_rows": 3})
    assert settings.port == 9002
    assert settings.mongo_db == "from_dotenv"
    assert settings.max_rows == 3


@pytest.mark.parametrize(
    "secret",
    [None, DEFAULT_SECRET_KEY, "", "x" * 31],
    ids=["missing", "development-default", "empty", "too-short"],
)
def test_production_refuses_a_weak_secret_with_a_clear_message(monkeypatch, secret):
    monkeypatch.setenv("APP_ENV", "production")
    if secret is not None:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("Invalid configuration: SECRET_KEY must")
    assert "\n" not in message
    if secret:
        assert secret not in message


def test_production_accepts_a_strong_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    assert load_settings().secret_key == STRONG_SECRET


def test_development_and_test_modes_accept_the_default_secret():
    for mode in ("development", "test"):
        assert load_settings({"app_env": mode}).secret_key == DEFAULT_SECRET_KEY


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("MAX_UPLOAD_MB", "0"),
        ("APP_ENV", "staging"),
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("REDIS_TIMEOUT_S", "0"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=f"Invalid configuration: {variable}: "):
        load_settings()


def test_error_messages_never_echo_inputs_such_as_passwords():
    url_with_password = "postgresql://app:hunter2-password@db/insightboard"
    with pytest.raises(SettingsError) as caught:
        load_settings({"database_url": url_with_password, "port": "not-a-port"})
    assert "hunter2" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_repr_hides_the_secret_and_connection_urls():
    settings = load_settings(
        {
            "secret_key": STRONG_SECRET,
            "database_url": "postgresql://app:pg-pass@db/x",
            "redis_url": "redis://:redis-pass@redis:6379/0",
            "mongo_uri": "mongodb://app:mongo-pass@mongo",
        }
    )
    text = repr(settings) + str(settings)
    for secret in (STRONG_SECRET, "pg-pass", "redis-pass", "mongo-pass"):
        assert secret not in text


def test_settings_are_immutable():
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.port = 1

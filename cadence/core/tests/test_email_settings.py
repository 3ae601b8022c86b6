"""Which mail transport the environment selects: SMTP by EMAIL_URL (with its TLS options), a
django-anymail provider, or the embedded capture. Each case loads the settings in a fresh
interpreter, as a deployment would."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: str(getattr(settings, k, '')) for k in ("
    "'EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_USE_TLS', "
    "'EMAIL_USE_SSL')} | {'anymail': sorted(settings.ANYMAIL)}))"
)


def _settings_with(tmp_path, **variables) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "ANYMAIL_"))}
    env.pop("CADENCE_EMAIL_PROVIDER", None)
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", CADENCE_VAR_DIR=str(tmp_path))
    env.update(variables)
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("url", "tls", "ssl"),
    [
        ("smtp://mailer:s3cret@smtp.example.com:25", "False", "False"),
        ("smtp+tls://mailer:s3cret@smtp.example.com:587", "True", "False"),
        ("smtp+ssl://mailer:s3cret@smtp.example.com:465", "False", "True"),
    ],
)
def test_email_url_selects_smtp_with_its_tls_options(tmp_path, url, tls, ssl):
    shown = _settings_with(tmp_path, EMAIL_URL=url)

    assert shown["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (shown["EMAIL_HOST"], shown["EMAIL_HOST_USER"]) == ("smtp.example.com", "mailer")
    assert (shown["EMAIL_USE_TLS"], shown["EMAIL_USE_SSL"]) == (tls, ssl)


def test_a_provider_is_selected_with_its_anymail_settings(tmp_path):
    shown = _settings_with(
        tmp_path,
        CADENCE_EMAIL_PROVIDER="postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="token",
        ANYMAIL_WEBHOOK_SECRET="hook:secret",
    )

    assert shown["EMAIL_BACKEND"] == "anymail.backends.postmark.EmailBackend"
    assert shown["anymail"] == ["POSTMARK_SERVER_TOKEN", "WEBHOOK_SECRET"]


def test_nothing_set_captures_mail_locally(tmp_path):
    shown = _settings_with(tmp_path)

    assert shown["EMAIL_BACKEND"] == "cadence.messaging.backends.CaptureBackend"
    assert shown["anymail"] == ["WEBHOOK_SECRET"]
    assert (tmp_path / "mail").is_dir()

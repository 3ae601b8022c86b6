"""HTTPS settings by the environment: a deployment (SECRET_KEY set) is HTTPS only, development
(the embedded default, or DEBUG) is plain HTTP, and ``check --deploy`` finds nothing to report
under the production settings the README documents. Each case runs in a fresh interpreter, as a
deployment would."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: getattr(settings, k, None) for k in ("
    "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
    "'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
    "'SECURE_PROXY_SSL_HEADER')}))"
)
# Two requests through the whole middleware stack to a URL that needs no database: plain HTTP,
# then HTTPS as a proxy would announce it.
REQUESTS = (
    "import django; django.setup(); from django.test import Client; c = Client(); "
    "r = c.get('/u/nothing', HTTP_HOST='cadence.example.com'); "
    "print(r.status_code, r.get('Location')); "
    "r = c.get('/u/nothing', HTTP_HOST='cadence.example.com', HTTP_X_FORWARDED_PROTO='https'); "
    "print(r.status_code, r.get('Strict-Transport-Security'))"
)
# Variables that would leak from the environment running the suite into a case (the browser
# tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright when they are collected).
OURS = (
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _run(tmp_path, code: list[str], **variables) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_")) and k not in OURS
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", CADENCE_VAR_DIR=str(tmp_path))
    env.update(variables)
    return subprocess.run(
        [sys.executable, *code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings_with(tmp_path, **variables) -> dict:
    done = _run(tmp_path, ["-c", SHOW], **variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def documented_production_environment() -> dict[str, str]:
    """The ``export NAME=value`` lines of the README's production section, the secret key
    generated as the README's command would."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Production", 1)[1].split("\n#", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    variables = {}
    for line in block.splitlines():
        match = re.match(r"export (\w+)=(\S+)", line)
        if match:
            name, value = match.groups()
            variables[name] = secrets.token_urlsafe(50) if value.startswith('"$(') else value
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER"} <= set(variables)
    return variables


def test_check_deploy_reports_nothing_under_the_documented_production_settings(tmp_path):
    done = _run(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **documented_production_environment(),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_a_deployment_is_https_only_and_development_stays_on_plain_http(tmp_path):
    deployment = _settings_with(tmp_path, SECRET_KEY=secrets.token_urlsafe(50))
    assert deployment == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        # Not believed until asked for: any client could send the header.
        "SECURE_PROXY_SSL_HEADER": None,
    }

    development = {"SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0}
    development |= {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False}
    embedded = _settings_with(tmp_path)
    assert {k: embedded[k] for k in development} == development
    debug = _settings_with(tmp_path, SECRET_KEY=secrets.token_urlsafe(50), DEBUG="1")
    assert {k: debug[k] for k in development} == development

    trimmed = _settings_with(
        tmp_path, SECRET_KEY=secrets.token_urlsafe(50), SECURE_HSTS_SECONDS="3600"
    )
    assert trimmed["SECURE_HSTS_SECONDS"] == 3600


def test_a_deployment_redirects_plain_http_and_believes_the_proxy_only_when_told(tmp_path):
    production = {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "cadence.example.com"}

    behind_proxy = _run(
        tmp_path, ["-c", REQUESTS], SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto", **production
    )
    assert behind_proxy.returncode == 0, behind_proxy.stderr
    plain, forwarded = behind_proxy.stdout.strip().splitlines()[-2:]
    assert plain == "301 https://cadence.example.com/u/nothing"
    assert forwarded == "404 max-age=31536000; includeSubDomains; preload"

    direct = _run(tmp_path, ["-c", REQUESTS], **production)
    assert direct.returncode == 0, direct.stderr
    # Without SECURE_PROXY_SSL_HEADER, a client's X-Forwarded-Proto proves nothing.
    assert direct.stdout.strip().splitlines()[-1] == "301 None"

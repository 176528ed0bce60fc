"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def from_environment(instance_path: str) -> dict[str, Any]:
    """Build the Flask config from environment variables (documented in README.md)."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "ketenregie.sqlite3")
    return {
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(env.get("DATABASE_URL", default_db)),
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(Path(instance_path)),
        "TIMER_SWEEP_SECONDS": float(env.get("TIMER_SWEEP_SECONDS", "10")),
        "TOKEN_LIFETIME_HOURS": float(env.get("TOKEN_LIFETIME_HOURS", "12")),
        "PROCESSES_DIR": env.get("PROCESSES_DIR", str(PROJECT_ROOT / "processes")),
        "FORMS_DIR": env.get("FORMS_DIR", str(PROJECT_ROOT / "forms")),
        # The biweekly case meeting: ISO weekday (1 = Monday) and time, Europe/Amsterdam.
        "MEETING_WEEKDAY": int(env.get("MEETING_WEEKDAY", "2")),
        "MEETING_TIME": env.get("MEETING_TIME", "14:00"),
        # Days a scheduled step (timer, meeting, evaluation, due date) may pass before a case stalls.
        "STALL_GRACE_DAYS": float(env.get("STALL_GRACE_DAYS", "7")),
        # Limits for the Python in diagrams, per step of a case (engine/bpmn/budget.py).
        "SCRIPT_TIME_BUDGET": float(env.get("SCRIPT_TIME_BUDGET", "1")),
        "SCRIPT_OPERATION_BUDGET": int(env.get("SCRIPT_OPERATION_BUDGET", "10000000")),
        "DEPLOY_PROCESSES_ON_START": env.get("DEPLOY_PROCESSES_ON_START", "1") == "1",
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": env.get("SMTP_STARTTLS", "0") == "1",
        "MAIL_FROM": env.get("MAIL_FROM", "ketenregie@localhost"),
        # Every request body is read (e.g. to refuse NUL characters): cap it before that happens.
        # The largest legitimate body is a diagram (2 MB, checked with its own message).
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        # A page session ends after this much inactivity, and at the latest this long after login.
        "SESSION_IDLE_MINUTES": float(env.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": float(env.get("SESSION_MAX_HOURS", "12")),
        # How many reverse proxies in front of us set X-Forwarded-For (and -Proto, -Host). 0: none,
        # the header is ignored, as anyone could send it to dodge the per-address login limit.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # The access log's chain key: never in the database (README, "Access log").
        "ACCESS_LOG_KEY": _access_log_key(env, Path(instance_path)),
        "ACCESS_LOG_CHECKPOINT_FILE": env.get("ACCESS_LOG_CHECKPOINT_FILE",
                                              str(Path(instance_path) / "access_log_checkpoints.jsonl")),
        "ACCESS_LOG_CHECKPOINT_MINUTES": float(env.get("ACCESS_LOG_CHECKPOINT_MINUTES", "15")),
        "ACCESS_LOG_CHECKPOINT_MAIL": env.get("ACCESS_LOG_CHECKPOINT_MAIL"),
        "ACCESS_LOG_SEAL_GRACE_MINUTES": float(env.get("ACCESS_LOG_SEAL_GRACE_MINUTES", "10")),
    }


def _access_log_key(env: Any, instance: Path) -> str:
    # An installation (it sets SECRET_KEY) must bring its own key, kept apart from the database
    # and its backups; a missing one refuses to start. Development gets one made in instance/.
    key = env.get("ACCESS_LOG_KEY")
    if key:
        return str(key)
    if env.get("SECRET_KEY") and env.get("FLASK_DEBUG", "0").lower() not in ("1", "true"):
        raise RuntimeError("ACCESS_LOG_KEY is not set: an installation needs its own access-log key (README).")
    return _instance_secret(instance, "access_log_key")


def _instance_secret(instance: Path, name: str = "secret_key") -> str:
    # Without SECRET_KEY (a single machine, the demo) a random key is made once and kept in
    # the instance folder, so it is never a known default and sessions survive a restart.
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _normalise_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

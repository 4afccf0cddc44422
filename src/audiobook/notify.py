"""A notice when a batch ends: an email through SMTP and, optionally, one JSON POST to a webhook.

Settings come from config.yaml's ``notify:`` section; the SMTP password only
from the environment variable it names, never from a file. The caller turns a
notice that cannot be sent into one warning line (see batch_hooks): a batch
never fails over its notice.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

MAX_LISTED_BOOKS = 50  # failed books named in the message; pipeline.json has all


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int = 587
    starttls: bool = True
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    username: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class NotifySettings:
    email: EmailSettings | None = None
    webhook: str | None = None
    timeout_s: float = 20.0

    @property
    def wanted(self) -> bool:
        return self.email is not None or bool(self.webhook)


def settings_from_config(section: dict[str, Any] | None) -> NotifySettings:
    """The ``notify:`` section (already checked by the schema) as settings."""
    section = section or {}
    email = section.get("email") or {}
    email_settings = None
    if email.get("host") and email.get("recipients"):
        email_settings = EmailSettings(
            host=email["host"],
            port=int(email.get("port", 587)),
            starttls=bool(email.get("starttls", True)),
            sender=email.get("sender") or f"batch-audiobook@{socket.getfqdn()}",
            recipients=list(email["recipients"]),
            username=email.get("username"),
            password_env=email.get("password_env"),
        )
    return NotifySettings(email=email_settings, webhook=section.get("webhook") or None,
                          timeout_s=float(section.get("timeout_s", 20.0)))


def failed_books(pipeline: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(book id, status, reason) for every book that did not succeed."""
    return [
        (book_id, entry.get("status") or "failed", entry.get("error") or "no reason recorded")
        for book_id, entry in pipeline["batch"]["files"].items()
        if entry.get("status") != "success"
    ]


def subject(summary: dict[str, Any], host: str) -> str:
    return (
        f"Audiobook batch {summary['status']} on {host}: {summary['successful_files']} of "
        f"{summary['total_files']} made, {summary['failed_files']} failed"
    )


def body(pipeline: dict[str, Any], host: str, results_dir: str) -> str:
    summary = pipeline["batch"]["summary"]
    lines = [
        subject(summary, host),
        "",
        f"Total books:  {summary['total_files']}",
        f"Successful:   {summary['successful_files']}",
        f"Partial:      {summary['partial_files']}",
        f"Failed:       {summary['failed_files']}",
    ]
    if summary.get("pending_files"):
        lines.append(f"Not run:      {summary['pending_files']}")
    lines += [
        f"Duration:     {summary.get('duration', 0):.1f} s",
        f"Audio:        {summary.get('audio_seconds', 0) / 60:.1f} min",
        f"Status:       {str(summary['status']).upper()}",
    ]
    failed = failed_books(pipeline)
    if failed:
        lines += ["", "Books that were not made:"]
        lines += [f"  {book_id} ({status}): {reason}" for book_id, status, reason in failed[:MAX_LISTED_BOOKS]]
        if len(failed) > MAX_LISTED_BOOKS:
            lines.append(f"  ... and {len(failed) - MAX_LISTED_BOOKS} more (see pipeline.json)")
    lines += ["", f"Every book: {results_dir}/report.html; each book's log: {results_dir}/logs/<book>.log"]
    return "\n".join(lines) + "\n"


def send_email(settings: EmailSettings, pipeline: dict[str, Any], host: str, results_dir: str, timeout_s: float) -> None:
    """Raises OSError or smtplib.SMTPException (or ValueError for a missing password) when it cannot send."""
    message = EmailMessage()
    message["Subject"] = subject(pipeline["batch"]["summary"], host)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content(body(pipeline, host, results_dir))
    password = None
    if settings.username:
        password = os.environ.get(settings.password_env or "")
        if password is None:
            raise ValueError(f"the environment variable {settings.password_env or '(notify.email.password_env)'} "
                             "holding the SMTP password is not set")
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, password or "")
        smtp.send_message(message)


def webhook_payload(pipeline: dict[str, Any], host: str) -> dict[str, Any]:
    summary = pipeline["batch"]["summary"]
    return {
        "text": subject(summary, host),
        "host": host,
        "summary": {key: value for key, value in summary.items() if key != "refused_inputs"},
        "failed_books": [
            {"id": book_id, "status": status, "error": reason} for book_id, status, reason in failed_books(pipeline)
        ][:MAX_LISTED_BOOKS],
    }


def post_webhook(url: str, pipeline: dict[str, Any], host: str, timeout_s: float) -> None:
    """One JSON POST; raises OSError (urllib's errors are OSErrors) or ValueError when it cannot."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"notify.webhook must be an http:// or https:// address, not {url!r}")
    data = json.dumps(webhook_payload(pipeline, host), default=str).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - scheme checked above
        response.read()


def send_notices(settings: NotifySettings, pipeline: dict[str, Any], results_dir: str) -> list[str]:
    """Send every notice configured; return one problem line per notice that could not be sent."""
    host = socket.gethostname()
    problems = []
    if settings.email is not None:
        try:
            send_email(settings.email, pipeline, host, results_dir, settings.timeout_s)
        except (OSError, smtplib.SMTPException, ValueError) as error:
            where = f"{settings.email.host}:{settings.email.port}"
            problems.append(f"could not send the email notice through {where}: {_describe(error)}")
    if settings.webhook:
        try:
            post_webhook(settings.webhook, pipeline, host, settings.timeout_s)
        except (OSError, ValueError) as error:
            problems.append(f"could not post the webhook notice: {_describe(error)}")
    return problems


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__

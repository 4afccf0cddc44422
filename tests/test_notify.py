"""The notice when a batch ends: a real SMTP server (aiosmtpd) and a real HTTP server receive it."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from audiobook.batch import EXIT_BOOKS_FAILED
from audiobook.notify import settings_from_config
from runs import FAILING_ID, make_folder, run_batch


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def email_settings(port: int) -> dict:
    return {"email": {"host": "127.0.0.1", "port": port, "starttls": False, "sender": "batch@example.org",
                      "recipients": ["reader@example.org", "second@example.org"]}, "timeout_s": 10}


def warnings(workdir: Path) -> list[str]:
    return [line for line in (workdir / "batch.log").read_text().splitlines() if "[WARNING] notice:" in line]


@pytest.mark.slow
def test_one_email_with_the_summary_and_the_failed_book(tmp_path, smtp_server):
    controller, inbox = smtp_server
    workdir = make_folder(tmp_path, notify=email_settings(controller.port))
    proc = run_batch(workdir)
    assert proc.returncode == EXIT_BOOKS_FAILED, proc.stdout + proc.stderr
    assert len(inbox.messages) == 1, "one notice per run"
    sender, recipients, raw = inbox.messages[0]
    assert sender == "batch@example.org"
    assert recipients == ["reader@example.org", "second@example.org"]
    message = message_from_bytes(raw)
    assert "partial" in message["Subject"] and "2 of 3 made, 1 failed" in message["Subject"]
    text = message.get_payload(decode=True).decode()
    assert "Total books:  3" in text and "Successful:   2" in text and "Failed:       1" in text
    assert f"{FAILING_ID} (failed): blank.pdf: is empty" in text
    assert warnings(workdir) == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make the test server's certificate")
def test_starttls_and_a_login_with_the_password_from_the_environment(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        settings = email_settings(controller.port)
        settings["email"].update(starttls=True, username="batch", password_env="TEST_SMTP_PASSWORD")
        workdir = make_folder(tmp_path, notify=settings)
        # The client trusts the test's certificate through the standard variable, as a site CA would be.
        proc = run_batch(workdir, env={"TEST_SMTP_PASSWORD": "s3cret", "SSL_CERT_FILE": str(cert)})
    finally:
        controller.stop()
    assert proc.returncode == EXIT_BOOKS_FAILED, proc.stdout + proc.stderr
    assert logins == [("batch", "s3cret")]
    assert len(inbox.messages) == 1 and warnings(workdir) == []
    assert "s3cret" not in (workdir / "batch.log").read_text() + (workdir / "pipeline.json").read_text()


@pytest.mark.slow
def test_with_the_server_down_the_batch_ends_as_it_would_and_says_so_in_one_line(tmp_path):
    workdir = make_folder(tmp_path, notify=email_settings(free_port()))
    proc = run_batch(workdir)
    assert proc.returncode == EXIT_BOOKS_FAILED, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout and "│ 1 " in proc.stdout.split("Failed", 1)[1][:20]
    lines = warnings(workdir)
    assert len(lines) == 1, lines
    assert "could not send the email notice through 127.0.0.1:" in lines[0] and "Connection refused" in lines[0]


@pytest.mark.slow
def test_a_webhook_gets_one_json_post(tmp_path):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        workdir = make_folder(tmp_path, notify={"webhook": f"http://127.0.0.1:{server.server_port}/hook"})
        proc = run_batch(workdir)
    finally:
        server.shutdown()
    assert proc.returncode == EXIT_BOOKS_FAILED, proc.stdout + proc.stderr
    assert len(received) == 1
    assert received[0]["type"] == "application/json"
    body = received[0]["body"]
    assert body["summary"]["failed_files"] == 1 and body["summary"]["total_files"] == 3
    assert [book["id"] for book in body["failed_books"]] == [FAILING_ID]
    assert warnings(workdir) == []


def test_a_login_without_its_password_variable_is_a_problem_line_not_a_crash(monkeypatch):
    from audiobook.notify import send_notices

    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    settings = settings_from_config({"email": {"host": "127.0.0.1", "port": free_port(), "recipients": ["a@b.c"],
                                               "username": "me", "password_env": "NO_SUCH_PASSWORD"}})
    pipeline = {"batch": {"summary": {"status": "success", "successful_files": 1, "total_files": 1,
                                      "partial_files": 0, "failed_files": 0}, "files": {}}}
    problems = send_notices(settings, pipeline, "results")
    assert len(problems) == 1 and "NO_SUCH_PASSWORD" in problems[0]


def test_no_host_or_no_recipients_means_no_email():
    assert not settings_from_config({"email": {"host": None, "recipients": ["a@b.c"]}}).wanted
    assert not settings_from_config({"email": {"host": "smtp.example.org", "recipients": []}}).wanted
    assert not settings_from_config(None).wanted


@pytest.mark.slow
def test_an_all_good_batch_is_recorded_and_notified_once_from_the_aggregate_rule(tmp_path, smtp_server):
    """No book fails: the aggregate rule (not onerror) writes the history and sends the notice."""
    from audiobook import history

    controller, inbox = smtp_server
    workdir = make_folder(tmp_path, notify=email_settings(controller.port))
    (workdir / "in" / "blank.pdf").unlink()
    proc = run_batch(workdir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(inbox.messages) == 1
    message = message_from_bytes(inbox.messages[0][2])
    assert "success" in message["Subject"] and "2 of 2 made, 0 failed" in message["Subject"]
    assert "Books that were not made" not in message.get_payload(decode=True).decode()
    runs = history.list_runs(workdir / "results")
    assert [(run["outcome"], run["successful"]) for run in runs] == [("success", 2)]
    assert runs[0]["notified_at"] is not None
    assert warnings(workdir) == []

"""The adapters against real counterparts: a file, Django's mail backends, and a small
HTTP server on 127.0.0.1 standing in for the SMS gateway and an agency's system."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import smtplib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail

from onestop.notifications.channels import (
    ChannelError,
    FileChannel,
    HttpSmsChannel,
    PermanentChannelError,
    SmtpChannel,
    WebhookChannel,
    build_channels,
)
from onestop.notifications.conf import NotifyConfig
from onestop.notifications.models import Message
from onestop.notifications.rendering import Rendered, render
from tests.notifications.fakes import RefusingEmailBackend

RENDERED = Rendered(subject="Заявка KZ-2026-000123 принята", body="Текст\n", language="ru")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    """A local HTTP server that records requests and answers with the queued statuses."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.received.append(
                Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def lines(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_file_channel_writes_a_key_once_and_echoes_no_personal_data(
    queue: Callable[..., Message], config: NotifyConfig
) -> None:
    echoed: list[str] = []
    channel = FileChannel(config.outbox_dir, echo=echoed.append)
    message = queue(channel="sms", recipient="+77011234567")
    other = queue(channel="sms", recipient="+77017654321")
    channel.send(message, RENDERED)
    channel.send(message, RENDERED)
    # a second channel object (another worker process) sees the key in the file too
    FileChannel(config.outbox_dir, echo=echoed.append).send(message, RENDERED)
    channel.send(other, RENDERED)
    records = lines(config.outbox_dir / "sms.jsonl")
    assert [r["idempotency_key"] for r in records] == [
        str(message.idempotency_key), str(other.idempotency_key)
    ]
    assert records[0]["recipient"] == "+77011234567"
    assert records[0]["subject"] == RENDERED.subject
    assert len(echoed) == 4
    assert "already in sms.jsonl" in echoed[1]
    assert "application KZ-2026-000123" in echoed[0]
    assert not any("+7701" in line or "Текст" in line for line in echoed)


def test_file_channel_survives_a_line_cut_short_and_a_cleared_outbox(
    queue: Callable[..., Message], config: NotifyConfig
) -> None:
    channel = FileChannel(config.outbox_dir, echo=lambda _: None)
    first, second = queue(), queue()
    channel.send(first, RENDERED)
    path = config.outbox_dir / "email.jsonl"
    with path.open("a") as file:
        file.write('{"idempotency_key": "cut')  # a writer killed mid-line
    channel.send(second, RENDERED)
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["idempotency_key"] == str(second.idempotency_key)
    path.unlink()
    channel.send(first, RENDERED)  # the file was cleared: delivered again, into a new file
    assert [r["idempotency_key"] for r in lines(path)] == [str(first.idempotency_key)]


def test_file_channel_reports_an_unwritable_folder(
    queue: Callable[..., Message], config: NotifyConfig
) -> None:
    config.outbox_dir.parent.mkdir(parents=True, exist_ok=True)
    config.outbox_dir.write_text("a file where the folder should be")
    with pytest.raises(ChannelError, match=r"cannot write email\.jsonl"):
        FileChannel(config.outbox_dir).send(queue(), RENDERED)


def test_smtp_channel_sends_through_djangos_mail_backend(
    queue: Callable[..., Message], config: NotifyConfig
) -> None:
    message = queue()
    SmtpChannel(dataclasses.replace(config, email_from="noreply@onestop.example")).send(
        message, RENDERED
    )
    [sent] = mail.outbox
    assert sent.to == ["aigerim@example.kz"]
    assert sent.from_email == "noreply@onestop.example"
    assert (sent.subject, sent.body) == (RENDERED.subject, RENDERED.body)
    assert sent.extra_headers["Message-ID"] == f"<{message.idempotency_key}@onestop>"


@pytest.mark.parametrize(
    ("refusal", "error", "text"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.kz": (550, b"no")}), PermanentChannelError,
         "refused the recipient"),
        (smtplib.SMTPDataError(554, b"spam"), PermanentChannelError, "refused the message"),
        (smtplib.SMTPDataError(451, b"later"), ChannelError, r"refused the message \(451\)"),
        (smtplib.SMTPAuthenticationError(535, b"bad login"), ChannelError, "answered 535"),
        (ConnectionRefusedError(111, "refused"), ChannelError, "unreachable"),
    ],
)
def test_smtp_errors_are_temporary_or_permanent(
    queue: Callable[..., Message],
    config: NotifyConfig,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    refusal: Exception,
    error: type[Exception],
    text: str,
) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.fakes.RefusingEmailBackend"
    monkeypatch.setattr(RefusingEmailBackend, "refusal", refusal)
    with pytest.raises(error, match=text) as raised:
        SmtpChannel(config).send(queue(), RENDERED)
    assert type(raised.value) is error
    assert "a@b.kz" not in str(raised.value)


def test_sms_gateway_receives_json_and_the_idempotency_key(
    queue: Callable[..., Message], config: NotifyConfig, gateway: Gateway
) -> None:
    config = dataclasses.replace(config, sms_url=gateway.url + "/send", sms_token="tok")
    message = queue(channel="sms", recipient="+998901234567")
    HttpSmsChannel(config).send(message, RENDERED)
    HttpSmsChannel(config).send(message, RENDERED)  # a retry carries the same key
    first, again = gateway.received
    assert first.path == "/send"
    assert first.headers["Idempotency-Key"] == str(message.idempotency_key)
    assert again.headers["Idempotency-Key"] == str(message.idempotency_key)
    assert first.headers["Authorization"] == "Bearer tok"
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.body) == {
        "to": "+998901234567", "text": "Текст", "reference": str(message.idempotency_key)
    }


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, ChannelError), (429, ChannelError), (400, PermanentChannelError),
     (302, PermanentChannelError)],
)
def test_gateway_answers_are_temporary_or_permanent(
    queue: Callable[..., Message],
    config: NotifyConfig,
    gateway: Gateway,
    status: int,
    error: type[Exception],
) -> None:
    gateway.statuses.append(status)
    config = dataclasses.replace(config, sms_url=gateway.url)
    with pytest.raises(error, match=f"SMS gateway answered {status}") as raised:
        HttpSmsChannel(config).send(queue(channel="sms", recipient="+77011234567"), RENDERED)
    assert type(raised.value) is error
    assert len(gateway.received) == 1  # a redirect is not followed


def test_an_unreachable_gateway_is_temporary(
    queue: Callable[..., Message], config: NotifyConfig, gateway: Gateway
) -> None:
    config = dataclasses.replace(config, sms_url="http://127.0.0.1:9/", timeout_seconds=2)
    with pytest.raises(ChannelError, match="SMS gateway is unreachable") as raised:
        HttpSmsChannel(config).send(queue(channel="sms", recipient="+77011234567"), RENDERED)
    assert type(raised.value) is ChannelError


def test_webhook_is_signed_with_the_shared_secret(
    queue: Callable[..., Message], config: NotifyConfig, gateway: Gateway
) -> None:
    message = queue(channel="webhook", recipient=gateway.url + "/hooks/onestop",
                    template="application_approved", language="en")
    rendered = render(template="application_approved", language="en", context=message.context)
    WebhookChannel(config).send(message, rendered)
    [request] = gateway.received
    assert request.path == "/hooks/onestop"
    assert request.headers["Idempotency-Key"] == str(message.idempotency_key)
    timestamp = request.headers["X-Onestop-Timestamp"]
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["X-Onestop-Signature"] == f"sha256={expected.hexdigest()}"
    payload = json.loads(request.body)
    assert payload["idempotency_key"] == str(message.idempotency_key)
    assert payload["subject"] == "Application KZ-2026-000123 approved"
    assert payload["context"]["number"] == "KZ-2026-000123"
    assert (payload["subject_type"], payload["subject_id"]) == ("application", "KZ-2026-000123")


def test_by_default_every_kind_goes_to_the_file(config: NotifyConfig) -> None:
    channels = build_channels(config)
    assert {type(c) for c in channels.values()} == {FileChannel}
    real = build_channels(dataclasses.replace(
        config, email_channel="smtp", sms_channel="http", webhook_channel="http"
    ))
    assert [type(real[k]) for k in ("file", "email", "sms", "webhook")] == [
        FileChannel, SmtpChannel, HttpSmsChannel, WebhookChannel
    ]

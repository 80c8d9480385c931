"""Delivery channels: the adapters between the outbox and the outside world.

Every channel has one method, `send(message, rendered)`. It returns when the message was
delivered and raises `ChannelError` when it may succeed later or `PermanentChannelError`
when it never will. Error texts name what failed, never the recipient or the content,
because the worker stores them in `Message.last_error` and logs them.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from django.core.mail import EmailMessage, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from onestop.notifications.conf import NotifyConfig, is_http_url
from onestop.notifications.models import Channel, Message
from onestop.notifications.rendering import Rendered

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """The delivery failed but may succeed later: the worker retries with backoff."""


class PermanentChannelError(ChannelError):
    """The delivery can never succeed (a refused recipient, a malformed request)."""


class DeliveryChannel(Protocol):
    def send(self, message: Message, rendered: Rendered) -> None: ...


class FileChannel:
    """Appends one JSON line per delivery to `<directory>/<channel>.jsonl`.

    The default channel, so a demo works offline; the file is the recipient's mailbox. It
    honours the idempotency key: a key already in the file is not written again, so a
    message whose first send was interrupted after the write is not delivered twice.
    Several workers may share the file: an exclusive lock covers the check and the append.
    """

    def __init__(
        self,
        directory: Path,
        *,
        echo: Callable[[str], None] | None = None,
        pause_seconds: float = 0.0,
    ) -> None:
        self.directory = directory
        self.echo = echo or logger.info
        self.pause_seconds = pause_seconds
        # Per file: how far it has been read, and the keys seen up to there. Only the tail
        # written since (by any process) is read on the next send.
        self._read_up_to: dict[Path, int] = {}
        self._keys: dict[Path, set[str]] = {}

    def path_for(self, channel: str) -> Path:
        return self.directory / f"{channel}.jsonl"

    def delivered_keys(self, channel: str) -> set[str]:
        """The idempotency keys already in the file of `channel`."""
        path = self.path_for(channel)
        if not path.exists():
            return set()
        with path.open("rb") as file:
            return self._read_new_keys(path, file)

    def send(self, message: Message, rendered: Rendered) -> None:
        key = str(message.idempotency_key)
        path = self.path_for(message.channel)
        about = " ".join(filter(None, [message.subject_type, message.subject_id]))
        summary = " ".join(
            filter(None, [
                f"outbox: {message.channel} {message.template}.{rendered.language}",
                f"about {about}" if about else "",
                f"(message {message.pk})",
            ])
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with path.open("a+b") as file:
                fcntl.flock(file, fcntl.LOCK_EX)
                if key in self._read_new_keys(path, file):
                    self.echo(f"{summary} already in {path.name}, not written again")
                    return
                line = json.dumps(self._record(message, rendered), ensure_ascii=False)
                file.write((line + "\n").encode())
                file.flush()
                self._read_up_to[path] = file.tell()
                self._keys[path].add(key)
        except OSError as exc:
            raise ChannelError(f"cannot write {path.name}: {exc.strerror}") from exc
        self.echo(f"{summary} -> {path.name}")
        if self.pause_seconds:
            # Testing only: a window in which the line is written but the row not yet
            # marked sent, for the test that kills the worker mid-send.
            time.sleep(self.pause_seconds)

    def _read_new_keys(self, path: Path, file: BinaryIO) -> set[str]:
        if os.fstat(file.fileno()).st_size < self._read_up_to.get(path, 0):
            # The file was truncated or replaced (someone cleared the outbox): start over.
            self._read_up_to.pop(path)
            self._keys.pop(path, None)
        keys = self._keys.setdefault(path, set())
        file.seek(self._read_up_to.get(path, 0))
        tail = file.read()
        complete = tail.rfind(b"\n") + 1  # a line cut short by a killed writer is not read
        for line in tail[:complete].splitlines():
            try:
                keys.add(str(json.loads(line)["idempotency_key"]))
            except (ValueError, KeyError, TypeError):
                continue
        self._read_up_to[path] = self._read_up_to.get(path, 0) + complete
        if complete < len(tail):
            file.write(b"\n")  # end the cut line, so the next record starts on its own
            self._read_up_to[path] = file.tell()
        return keys

    @staticmethod
    def _record(message: Message, rendered: Rendered) -> dict[str, Any]:
        return {
            "delivered_at": timezone.now().isoformat(),
            "idempotency_key": str(message.idempotency_key),
            "channel": message.channel,
            "recipient": message.recipient,
            "template": message.template,
            "language": rendered.language,
            "subject_type": message.subject_type,
            "subject_id": message.subject_id,
            "subject": rendered.subject,
            "body": rendered.body,
        }


class SmtpChannel:
    """Email through Django's mail backend: the ONESTOP_NOTIFY_SMTP_* server when one is
    set, else Django's EMAIL_BACKEND and EMAIL_* settings."""

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config

    def _connection(self) -> Any:
        if not self.config.smtp_host:
            return get_connection(fail_silently=False, timeout=self.config.timeout_seconds)
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            fail_silently=False,
            host=self.config.smtp_host,
            port=self.config.smtp_port,
            username=self.config.smtp_user or None,
            password=self.config.smtp_password or None,
            use_tls=self.config.smtp_tls,
            timeout=self.config.timeout_seconds,
        )

    def send(self, message: Message, rendered: Rendered) -> None:
        key = str(message.idempotency_key)
        email = EmailMessage(
            subject=rendered.subject,
            body=rendered.body,
            from_email=self.config.email_from or None,
            to=[message.recipient],
            # The Message-ID is derived from the key, so mail systems that drop duplicate
            # Message-IDs drop a retried copy too.
            headers={"Message-ID": f"<{key}@onestop>", "X-Onestop-Idempotency-Key": key},
            connection=self._connection(),
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentChannelError("the mail server refused the recipient") from exc
        except smtplib.SMTPDataError as exc:
            error = ChannelError if exc.smtp_code < 500 else PermanentChannelError
            raise error(f"the mail server refused the message ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            # Authentication and sender errors are our configuration: fixable, so retried.
            raise ChannelError(f"the mail server answered {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"mail server unreachable ({type(exc).__name__})") from exc
        except ValueError as exc:  # an invalid address or header: retrying cannot help
            raise PermanentChannelError(
                f"the email cannot be built ({type(exc).__name__})"
            ) from exc


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect of a POST as a GET without the body and report the
    # GET's success as ours; a redirect is an answer we do not understand.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)
# Answers worth retrying: timeouts, rate limits and server-side trouble.
_TEMPORARY_STATUSES = frozenset({408, 425, 429})


def post_json(
    url: str, body: bytes, *, headers: Mapping[str, str], timeout: float, what: str
) -> None:
    """POST `body` as JSON; raises ChannelError (retry) or PermanentChannelError."""
    if not is_http_url(url):
        raise PermanentChannelError(f"the {what} URL is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the open response
        if exc.code >= 500 or exc.code in _TEMPORARY_STATUSES:
            raise ChannelError(f"the {what} answered {exc.code}") from exc
        raise PermanentChannelError(f"the {what} answered {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise ChannelError(f"the {what} is unreachable ({type(exc.reason).__name__})") from exc
    except OSError as exc:  # timeouts while reading, reset connections
        raise ChannelError(f"the {what} is unreachable ({type(exc).__name__})") from exc


class HttpSmsChannel:
    """SMS through an HTTP gateway: POST {"to", "text", "reference"} as JSON with the
    message's `Idempotency-Key` header (and a bearer token when one is configured)."""

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config

    def send(self, message: Message, rendered: Rendered) -> None:
        key = str(message.idempotency_key)
        payload = {"to": message.recipient, "text": rendered.body.strip(), "reference": key}
        headers = {"Idempotency-Key": key}
        if self.config.sms_token:
            headers["Authorization"] = f"Bearer {self.config.sms_token}"
        post_json(
            self.config.sms_url,
            json.dumps(payload, ensure_ascii=False).encode(),
            headers=headers,
            timeout=self.config.timeout_seconds,
            what="SMS gateway",
        )


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under the shared secret.

    The timestamp is signed with the body so a receiver can refuse an old request
    replayed; the idempotency key lets it drop a retried one.
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class WebhookChannel:
    """POSTs the message as JSON to an agency system's URL (the message's recipient),
    signed with HMAC-SHA256 in `X-Onestop-Signature` over `X-Onestop-Timestamp` and
    the body, with the message's `Idempotency-Key`."""

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config

    def send(self, message: Message, rendered: Rendered) -> None:
        key = str(message.idempotency_key)
        payload = {
            "idempotency_key": key,
            "template": message.template,
            "language": rendered.language,
            "subject_type": message.subject_type,
            "subject_id": message.subject_id,
            "subject": rendered.subject,
            "body": rendered.body,
            "context": message.context,
        }
        body = json.dumps(payload, ensure_ascii=False, cls=DjangoJSONEncoder).encode()
        timestamp = str(int(time.time()))
        post_json(
            message.recipient,
            body,
            headers={
                "Idempotency-Key": key,
                "X-Onestop-Timestamp": timestamp,
                "X-Onestop-Signature": webhook_signature(
                    self.config.webhook_secret, timestamp, body
                ),
            },
            timeout=self.config.timeout_seconds,
            what="agency webhook",
        )


def build_channels(
    config: NotifyConfig, *, echo: Callable[[str], None] | None = None
) -> dict[str, DeliveryChannel]:
    """The adapter for each kind of message, as configured (everything to the file)."""
    file = FileChannel(config.outbox_dir, echo=echo, pause_seconds=config.file_pause_seconds)
    return {
        Channel.FILE: file,
        Channel.EMAIL: SmtpChannel(config) if config.email_channel == "smtp" else file,
        Channel.SMS: HttpSmsChannel(config) if config.sms_channel == "http" else file,
        Channel.WEBHOOK: WebhookChannel(config) if config.webhook_channel == "http" else file,
    }

"""The delivery loop behind `onestop worker`: claim due messages, send each outside any
transaction, record the outcome. A message is marked sent only after its channel
returned; whatever the channel raised, it is retried or given up, never marked sent."""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils import timezone

from onestop.notifications import services
from onestop.notifications.channels import ChannelError, DeliveryChannel, PermanentChannelError
from onestop.notifications.conf import NotifyConfig
from onestop.notifications.models import Message, Status
from onestop.notifications.rendering import TemplateMissingError, render

logger = logging.getLogger(__name__)


@dataclass
class Tally:
    """Counts of one run; what the worker logs (never recipients)."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0

    def add(self, other: Tally) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.released += other.released

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed}, sent {self.sent}, retrying {self.retrying}, "
            f"dead {self.dead}, released {self.released}"
        )


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class Worker:
    def __init__(
        self,
        *,
        channels: Mapping[str, DeliveryChannel],
        config: NotifyConfig,
        name: str | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], dt.datetime] = timezone.now,
    ) -> None:
        self.channels = channels
        self.config = config
        self.name = name or default_worker_name()
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self.clock = clock
        self.stop_requested = False

    def request_stop(self) -> None:
        """Stop after the message being sent now (what SIGTERM and Ctrl-C do)."""
        self.stop_requested = True

    def run_batch(self, *, batch: int) -> Tally:
        """Claim up to `batch` due messages and deliver them; hand back the rest on a stop."""
        messages = services.claim_due(
            worker=self.name, batch=batch, now=self.clock(), config=self.config
        )
        tally = Tally(claimed=len(messages))
        for index, message in enumerate(messages):
            if self.stop_requested:
                tally.released = services.release(messages[index:], worker=self.name)
                break
            outcome = self.deliver(message)
            if outcome == Status.SENT:
                tally.sent += 1
            elif outcome == Status.FAILED:
                tally.retrying += 1
            elif outcome == Status.DEAD:
                tally.dead += 1
        if messages:
            logger.info("notifications: %s", tally)
        return tally

    def run(self, *, batch: int, sleep: float, once: bool) -> Tally:
        """Deliver until stopped; with `once`, until nothing is due."""
        total = Tally()
        while not self.stop_requested:
            tally = self.run_batch(batch=batch)
            total.add(tally)
            if tally.claimed:
                continue
            if once:
                break
            # Idle: let Django drop a connection past its age, then wait, waking often
            # enough to notice a stop.
            close_old_connections()
            deadline = time.monotonic() + sleep
            while not self.stop_requested and time.monotonic() < deadline:
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))
        return total

    def deliver(self, message: Message) -> str:
        """Send one claimed message and record the outcome; returns the new status."""
        try:
            rendered = render(
                template=message.template, language=message.language, context=message.context
            )
            self.channels[message.channel].send(message, rendered)
        except TemplateMissingError as exc:
            return self._failed(message, str(exc), permanent=True)
        except PermanentChannelError as exc:
            return self._failed(message, str(exc), permanent=True)
        except ChannelError as exc:
            return self._failed(message, str(exc), permanent=False)
        except Exception as exc:
            # A fault in a template or an adapter. Only the type is kept: an unexpected
            # exception's text may quote the recipient or the context.
            logger.error("notifications: message %s raised %s", message.pk, type(exc).__name__)
            return self._failed(message, f"unexpected {type(exc).__name__}", permanent=False)
        services.record_sent(message, now=self.clock())
        return Status.SENT

    def _failed(self, message: Message, error: str, *, permanent: bool) -> str:
        status = services.record_failure(
            message,
            worker=self.name,
            error=error,
            permanent=permanent,
            now=self.clock(),
            config=self.config,
            rng=self.rng,
        )
        logger.warning(
            "notifications: message %s attempt %s failed (%s): %s",
            message.pk, message.attempts, status, error,
        )
        return status

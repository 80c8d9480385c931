"""How long to wait before the next delivery attempt: exponential, capped, with jitter."""

from __future__ import annotations

import random


def retry_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...).

    The ceiling doubles with each attempt up to `cap`; the delay is drawn from its upper
    half ("equal jitter"), so retries keep spreading out while many messages that failed
    together (a gateway outage) do not all come back in the same second.
    """
    ceiling = min(cap, base * 2 ** min(max(attempt - 1, 0), 60))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)

"""Per-process caches that every process drops as soon as the data under them changes.

A *domain* (the catalogue, the accounts) is a set of tables. Every statement that writes
one of them gives the domain a new revision: a random value stored in `core_revision` by
a database trigger, in the writing transaction (so a rolled-back write leaves the old
revision, and the values of rolled-back revisions never come back). A `RevisionCache`
reads the domain's revision (one small query) before it reads anything, and keeps what it
read only under that revision: after any committed write, in any process, by the admin
screens, a pack load, a management command or plain SQL, the next read in every process
sees a new revision and reads afresh.

Domains are declared by their apps in `AppConfig.ready`:

    revisions.watch("catalogue", *catalogue_models)
    revisions.watch("accounts", User, on_insert=False, ignore=("last_login",))

`on_insert=False` for tables whose new rows cannot change what was cached (a new user
changes no one's token); `ignore` names columns whose updates do not matter. The
triggers are (re)installed after every `migrate` (a `post_migrate` handler), so a later
migration that rebuilds a table, as SQLite's schema editor does, gets them back.

Within one request (`ReadOnce`, a middleware) the revisions are read once, every domain
in one query, until the request writes anything: its caches then read them afresh, so a
request never serves what it has just changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.http import HttpRequest, HttpResponse

TABLE = "core_revision"
_TRIGGER_SUFFIX = "_revises"

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _Watch:
    domain: str
    model: type[models.Model]
    on_insert: bool
    ignore: tuple[str, ...]


_watches: list[_Watch] = []


def watch(
    domain: str, *watched: type[models.Model], on_insert: bool = True,
    ignore: Iterable[str] = (),
) -> None:
    """Every write to these models' tables gives `domain` a new revision."""
    if not domain.isidentifier() or not domain.islower():
        raise ValueError(f"{domain!r}: a domain is a lowercase identifier")
    for model in watched:
        _watches.append(_Watch(domain, model, on_insert, tuple(ignore)))


def watched() -> list[tuple[str, str]]:
    """(domain, table) of every watched table."""
    return [(w.domain, w.model._meta.db_table) for w in _watches]


# In a request: the revisions of every domain, once read (`_UNREAD` before the first
# read; None outside a request and after the request wrote anything).
_UNREAD: dict[str, str] = {}
_read: ContextVar[dict[str, str] | None] = ContextVar("onestop_revisions", default=None)


def current(domain: str, using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The domain's revision now (None until its tables were first written)."""
    seen = _read.get() if using == DEFAULT_DB_ALIAS else None
    if seen is None:
        return _read_all(using).get(domain)
    if seen is _UNREAD:
        seen = _read_all(using)
        _read.set(seen)
    return seen.get(domain)


def _read_all(using: str) -> dict[str, str]:
    """Every domain's revision: a row per domain, a handful in all."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT domain, value FROM core_revision")
        return {str(d): str(v) for d, v in cursor.fetchall()}


class ReadOnce:
    """Middleware: a request reads the revisions once, all domains in one query, and
    afresh after any statement of its own that is not a SELECT (a write, a savepoint)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = _read.set(_UNREAD)
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(_forget_on_write):
                return self.get_response(request)
        finally:
            _read.reset(started)


def _forget_on_write(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any],
) -> Any:
    if _read.get() is not None and sql.lstrip()[:6].upper() != "SELECT":
        _read.set(None)
    return execute(sql, params, many, context)


@dataclass
class _Generation(Generic[K, V]):
    revision: str | None
    entries: dict[K, V] = field(default_factory=dict)


class RevisionCache(Generic[K, V]):
    """What was read from a domain's tables, kept while the domain's revision holds."""

    def __init__(self, domain: str, max_entries: int = 4096) -> None:
        self.domain = domain
        self.max_entries = max_entries
        self._generation: _Generation[K, V] = _Generation(revision=None)
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The value under `key`: kept if the domain has not changed since it was read,
        else `load()` (read after the revision, so it is never older than that
        revision). None from `load` is returned and not kept."""
        revision = current(self.domain)
        generation = self._generation
        if generation.revision != revision:
            with self._lock:
                generation = self._generation = _Generation(revision=revision)
        try:
            return generation.entries[key]
        except KeyError:
            pass
        value = load()
        if value is not None:
            # A concurrent reader may have started a newer generation: this value goes
            # into the one it was read under, kept or already dropped.
            if len(generation.entries) >= self.max_entries:
                generation.entries.clear()
            generation.entries[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._generation = _Generation(revision=None)


# --- the triggers ------------------------------------------------------------------------


def _columns(w: _Watch) -> list[str]:
    return [f.column for f in w.model._meta.local_concrete_fields if f.name not in w.ignore
            and f.column not in w.ignore]


def _postgresql(w: _Watch) -> list[str]:
    table = w.model._meta.db_table
    function = f"onestop_revise_{w.domain}"
    events = ["DELETE", "TRUNCATE"]
    if w.on_insert:
        events.insert(0, "INSERT")
    if w.ignore:
        events.append("UPDATE OF " + ", ".join(f'"{c}"' for c in _columns(w)))
    else:
        events.append("UPDATE")
    trigger = f"{table}{_TRIGGER_SUFFIX}"
    return [
        # the names are the models' tables and domains checked by watch(): no input
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO core_revision (domain, value) VALUES ('{w.domain}', gen_random_uuid()::text)
    ON CONFLICT (domain) DO UPDATE SET value = EXCLUDED.value;
    RETURN NULL;
END
$body$""",  # noqa: S608 (names checked by watch)
        f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"',
        f'CREATE TRIGGER "{trigger}" AFTER {" OR ".join(events)} ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _sqlite(w: _Watch) -> list[str]:
    table = w.model._meta.db_table
    revise = (f"INSERT OR REPLACE INTO core_revision (domain, value) "  # noqa: S608 (names)
              f"VALUES ('{w.domain}', lower(hex(randomblob(16))));")
    events = {"insert": "INSERT", "delete": "DELETE"}
    if not w.on_insert:
        del events["insert"]
    events["update"] = (
        "UPDATE OF " + ", ".join(f'"{c}"' for c in _columns(w)) if w.ignore else "UPDATE"
    )
    statements = []
    for suffix in ("insert", "update", "delete"):
        trigger = f"{table}{_TRIGGER_SUFFIX}_{suffix}"
        statements.append(f'DROP TRIGGER IF EXISTS "{trigger}"')
        if suffix in events:
            statements.append(f'CREATE TRIGGER "{trigger}" AFTER {events[suffix]} ON "{table}" '
                              f"FOR EACH ROW BEGIN {revise} END")
    return statements


def install(using: str = DEFAULT_DB_ALIAS, **_: Any) -> None:
    """(Re)create the triggers of every watched table that exists."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    tables = set(connection.introspection.table_names())
    if TABLE not in tables:
        return
    build = _postgresql if connection.vendor == "postgresql" else _sqlite
    with connection.cursor() as cursor:
        for w in _watches:
            if w.model._meta.db_table in tables:
                for statement in build(w):
                    cursor.execute(statement)

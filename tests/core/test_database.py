"""The database connection as production opens it."""

from __future__ import annotations

import pytest
from django.db import connection

from onestop.accounts.models import User


@pytest.mark.django_db
def test_postgres_prepares_a_statement_run_again_and_again() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    User.objects.create(username="prepared", national_id="900101300099")
    for _ in range(6):
        assert User.objects.filter(username="prepared").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "accounts_user"' in s and "$1" in s for s in prepared), prepared

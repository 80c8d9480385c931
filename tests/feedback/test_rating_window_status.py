"""A rating changed after its window answers 409 on the page, in the page's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.feedback import services
from onestop.feedback.errors import Conflict, RatingChangeClosed, status_of
from onestop.feedback.models import Rating


def test_a_rating_past_its_change_window_is_409_in_russian(
    citizen: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen)
    services.rate(citizen=citizen, application=application,
                  scores={"legality": 5, "timeliness": 5}, channel="portal")
    Rating.objects.update(created_at=timezone.now() - timedelta(days=30))
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    client.force_login(citizen)
    response = client.post(f"/feedback/rate/{application.number}/",
                           {"score_legality": "4", "score_timeliness": "4"})
    assert response.status_code == 409
    assert "оценку можно изменить в течение" in response.content.decode()
    assert issubclass(RatingChangeClosed, Conflict)
    assert status_of(RatingChangeClosed("x")) == 409

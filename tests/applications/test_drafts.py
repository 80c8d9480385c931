"""A citizen's drafts: saved, resumed and deleted by their owner only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from onestop.accounts.models import User
from onestop.applications import drafts
from onestop.applications.errors import NotFound
from onestop.applications.models import Draft
from onestop.catalogue.models import Service
from tests.applications.pages import ALMATY

SAVED = datetime(2026, 11, 16, 10, tzinfo=ALMATY)


@pytest.fixture
def stranger(make_user: Callable[..., User]) -> User:
    return make_user("citizen", national_id="900101300022")


def test_a_draft_is_saved_then_updated_in_place(birth: Service, citizen: User) -> None:
    draft = drafts.save(owner=citizen, service=birth, form_data={"child_name": "A"}, now=SAVED)
    assert (draft.owner, draft.service, draft.form_data) == (citizen, birth, {"child_name": "A"})
    assert draft.created_at == draft.updated_at == SAVED

    later = SAVED + timedelta(hours=2)
    again = drafts.save(owner=citizen, service=birth, form_data={"child_name": "Aruzhan"},
                        draft=draft, now=later)
    assert again.pk == draft.pk
    stored = Draft.objects.get()
    assert stored.form_data == {"child_name": "Aruzhan"}
    assert (stored.created_at, stored.updated_at) == (SAVED, later)


def test_a_draft_resumes_for_its_owner_and_service_only(
    birth: Service, citizen: User, stranger: User
) -> None:
    draft = drafts.save(owner=citizen, service=birth, form_data={"child_name": "A"})
    assert drafts.resume(owner=citizen, service=birth, draft_id=str(draft.pk)) == draft

    other_service = Service.objects.exclude(pk=birth.pk).filter(country=birth.country).first()
    assert other_service is not None
    for owner, service, draft_id in ((stranger, birth, str(draft.pk)),
                                     (citizen, other_service, str(draft.pk)),
                                     (citizen, birth, "not-a-number"),
                                     (citizen, birth, str(draft.pk + 1))):
        with pytest.raises(NotFound):
            drafts.resume(owner=owner, service=service, draft_id=draft_id)


def test_another_users_draft_is_not_overwritten(
    birth: Service, citizen: User, stranger: User
) -> None:
    draft = drafts.save(owner=citizen, service=birth, form_data={"child_name": "A"})
    with pytest.raises(NotFound):
        drafts.save(owner=stranger, service=birth, form_data={"child_name": "B"}, draft=draft)
    assert Draft.objects.get().form_data == {"child_name": "A"}


def test_a_draft_deleted_meanwhile_is_not_saved_again(birth: Service, citizen: User) -> None:
    draft = drafts.save(owner=citizen, service=birth, form_data={"child_name": "A"})
    drafts.delete(owner=citizen, draft_id=draft.pk)
    with pytest.raises(NotFound):
        drafts.save(owner=citizen, service=birth, form_data={"child_name": "B"}, draft=draft)
    assert not Draft.objects.exists()


def test_a_draft_is_deleted_by_its_owner_only(
    birth: Service, citizen: User, stranger: User
) -> None:
    draft = drafts.save(owner=citizen, service=birth, form_data={})
    with pytest.raises(NotFound):
        drafts.delete(owner=stranger, draft_id=draft.pk)
    assert Draft.objects.exists()

    drafts.delete(owner=citizen, draft_id=draft.pk)
    assert not Draft.objects.exists()
    with pytest.raises(NotFound):
        drafts.delete(owner=citizen, draft_id=draft.pk)

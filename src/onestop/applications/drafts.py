"""A citizen's drafts of an application form: save, resume and delete, each write one
transaction. A draft is its owner's only: another user's draft reads as not found."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.applications.errors import NotFound
from onestop.applications.models import Draft
from onestop.catalogue.models import Service


def resume(*, owner: User, service: Service, draft_id: str) -> Draft:
    """The owner's draft `draft_id` (as given in a request) of `service`; NotFound for
    anything else."""
    draft = Draft.objects.filter(pk=int(draft_id) if draft_id.isdigit() else 0,
                                 owner=owner, service=service).first()
    if draft is None:
        raise NotFound(_("No such draft."))
    return draft


@transaction.atomic
def save(*, owner: User, service: Service, form_data: dict[str, Any],
         draft: Draft | None = None, now: dt.datetime | None = None) -> Draft:
    """Keep what the owner typed so far: a new draft, or `draft` (of `resume`) updated."""
    now = now or timezone.now()
    if draft is None:
        return Draft.objects.create(owner=owner, service=service, form_data=form_data,
                                    created_at=now, updated_at=now)
    # the owner's only, and still there (not deleted in another tab meanwhile)
    if not Draft.objects.filter(pk=draft.pk, owner=owner, service=service).update(
            form_data=form_data, updated_at=now):
        raise NotFound(_("No such draft."))
    draft.form_data, draft.updated_at = form_data, now
    return draft


@transaction.atomic
def delete(*, owner: User, draft_id: int) -> None:
    """Delete the owner's draft (once submitted, or when the owner asks); NotFound if the
    owner has no such draft."""
    deleted, _kinds = Draft.objects.filter(pk=draft_id, owner=owner).delete()
    if not deleted:
        raise NotFound(_("No such draft."))

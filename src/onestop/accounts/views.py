"""The signed-in user's own account page: who they are to onestop, and where its messages
about their applications go."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from onestop.accounts import services
from onestop.accounts.models import User


class ContactForm(forms.Form):
    """The user's own e-mail address and mobile phone; checked by services.update_contact."""

    email = forms.CharField(
        label=_("E-mail"), required=False, max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"), required=False, max_length=40,
        help_text=_("In international form: + and the country code, then the number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """My account: the user's name, role and scope, and their contact details to change."""
    user: User = request.user  # type: ignore[assignment]
    status = 200
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                changed = services.update_contact(
                    user, email=form.cleaned_data["email"], phone=form.cleaned_data["phone"])
            except services.ContactInvalid as exc:
                for field, problem in exc.problems.items():
                    form.add_error(field, problem)
            else:
                messages.success(request, _("Your contact details are saved.") if changed
                                 else _("Nothing was changed."))
                return redirect("accounts:account")
        status = 422
    else:
        form = ContactForm(initial={"email": user.email, "phone": user.phone})
    return render(request, "accounts/account.html", {"form": form}, status=status)

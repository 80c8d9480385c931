"""The signed-in user's own account page: who they are to onestop, and where its messages
about their applications go."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from onestop.accounts import services
from onestop.accounts.models import User


class ContactForm(forms.Form):
    """The user's own e-mail address and mobile phone; checked by the service."""

    email = forms.CharField(
        label=_("E-mail"), required=False, max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"), required=False, max_length=40,
        help_text=_("In international form: + and the country code, then the number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "pattern": "[0-9]{6}"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """My account: the user's name and scope, and their contact details to change, each
    new address confirmed by the code sent to it."""
    user: User = request.user  # type: ignore[assignment]
    status = 200
    contact = ContactForm(initial={"email": user.email, "phone": user.phone})
    code = CodeForm()
    if request.method == "POST" and request.POST.get("intent") == "confirm":
        code = CodeForm(request.POST)
        if code.is_valid():
            try:
                field = services.confirm_contact(user, code.cleaned_data["code"])
            except services.ContactCodeWrong as exc:
                code.add_error("code", str(exc))
            else:
                messages.success(request, _("Your e-mail address is confirmed and saved.")
                                 if field == "email" else
                                 _("Your mobile phone is confirmed and saved."))
                return redirect("accounts:account")
        status = 422
    elif request.method == "POST":
        contact = ContactForm(request.POST)
        if contact.is_valid():
            try:
                change = services.request_contact_change(
                    user, email=contact.cleaned_data["email"],
                    phone=contact.cleaned_data["phone"], language=get_language())
            except services.ContactInvalid as exc:
                for field, problem in exc.problems.items():
                    contact.add_error(field, problem)
            except services.ContactThrottled as exc:
                contact.add_error(None, str(exc))
            else:
                if change.pending:
                    messages.success(request, _("We sent a code to each new address. Type it "
                                                "below to confirm the address."))
                elif change.changed:
                    messages.success(request, _("Your contact details are saved."))
                else:
                    messages.success(request, _("Nothing was changed."))
                return redirect("accounts:account")
        status = 422
    return render(request, "accounts/account.html", {
        "form": contact, "code_form": code, "pending": services.pending_confirmations(user),
        "minutes": services.CODE_MINUTES,
    }, status=status)

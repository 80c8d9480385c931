"""The receipt of an application: one PDF page with what the applicant needs to follow it,
and a QR code that opens its public status page; and, for a result the system issued
itself (an instant service), the electronic document of that result, drawn up the same
way, its QR code opening the status page where anyone holding it can check the issue.

The text is set in DejaVu Sans, shipped in `fonts/` (its licence beside it), because the
PDF's built-in fonts have no Cyrillic letters and a fresh machine may have no system fonts.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from onestop.applications.models import Application, Payment
from onestop.core.text import localize

FONT = "DejaVuSans"
FONT_FILE = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
QR_SIZE = 45 * mm


@dataclass(frozen=True)
class Receipt:
    """What a receipt says, in the language it is printed in."""

    number: str
    service: str
    agency: str
    submitted_at: str
    deadline_at: str
    fee: str
    access_code: str
    status_url: str  # the QR code's payload

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [
            (_("Application number"), self.number),
            (_("Service"), self.service),
            (_("Agency"), self.agency),
            (_("Submitted"), self.submitted_at),
            (_("Deadline"), self.deadline_at),
            (_("Fee"), self.fee),
            (_("Access code"), self.access_code),
        ]


def receipt_for(application: Application, *, access_code: str, status_url: str,
                language: str) -> Receipt:
    """The receipt of `application`, its dates in its country's time zone."""
    country = application.country
    zone = ZoneInfo(country.time_zone)

    def local(moment: dt.datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({country.time_zone})"

    return Receipt(
        number=application.number,
        service=localize(application.standard.name, language, country.languages),
        agency=localize(application.agency.name, language, country.languages),
        submitted_at=local(application.submitted_at),
        deadline_at=local(application.deadline_at),
        fee=_fee(application),
        access_code=access_code,
        status_url=status_url,
    )


def _fee(application: Application) -> str:
    if application.fee_amount == 0:
        return _("free of charge")
    currency = application.country.currency
    payment = application.payments.order_by("-paid_at", "-pk").first()
    if payment is None:
        return f"{application.fee_amount} {currency}"
    if payment.status == Payment.Status.PAID:
        return _("%(amount)s %(currency)s paid (payment %(reference)s)") % {
            "amount": payment.amount, "currency": payment.currency,
            "reference": payment.reference}
    return _("%(amount)s %(currency)s refunded (payment %(reference)s)") % {
        "amount": payment.amount, "currency": payment.currency, "reference": payment.reference}


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    return FONT


@dataclass(frozen=True)
class ResultDocument:
    """What the electronic document of a result the system issued says."""

    number: str
    service: str
    result: str
    applicant: str
    national_id: str
    agency: str
    issued_at: str
    status_url: str  # the QR code's payload

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [
            (_("Service"), self.service),
            (_("Application number"), self.number),
            (_("Applicant"), self.applicant),
            (_("National ID"), self.national_id),
            (_("Issued by"), self.agency),
            (_("Issued"), self.issued_at),
        ]


def result_for(application: Application, *, status_url: str, language: str) -> ResultDocument:
    """The result document of an application the system issued, in `language`."""
    country = application.country
    zone = ZoneInfo(country.time_zone)
    issued = application.completed_at or application.submitted_at
    return ResultDocument(
        number=application.number,
        service=localize(application.standard.name, language, country.languages),
        result=localize(application.standard.result, language, country.languages),
        applicant=application.applicant_name or (
            application.applicant.get_full_name() if application.applicant else ""),
        national_id=application.applicant_national_id,
        agency=localize(application.agency.name, language, country.languages),
        issued_at=f"{issued.astimezone(zone):%Y-%m-%d %H:%M} ({country.time_zone})",
        status_url=status_url,
    )


def render(receipt: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF."""
    return _page(
        title=_("Application receipt"), subtitle=receipt.number,
        document_title=_("Receipt for application %(number)s") % {"number": receipt.number},
        subject=receipt.number, rows=receipt.rows, qr_url=receipt.status_url,
        caption=_("Scan the code, or open the address below and enter the number and the "
                  "access code, to check the status of the application at any time."),
        footer=_("Keep this receipt. The number and the access code show the status only, "
                 "never your personal data."),
    )


def render_result(document: ResultDocument) -> bytes:
    """The result document as a one-page A4 PDF."""
    return _page(
        title=_("Electronic document"), subtitle=document.result,
        document_title=_("Result of application %(number)s") % {"number": document.number},
        subject=document.number, rows=document.rows, qr_url=document.status_url,
        caption=_("Scan the code to check that this result was issued: the status page "
                  "shows the application's state and the agency that issued it."),
        footer=_("Drawn up by onestop from the record of the application, on the "
                 "agency's behalf."),
    )


def _page(*, title: str, subtitle: str, document_title: str, subject: str,
          rows: list[tuple[str, str]], qr_url: str, caption: str, footer: str) -> bytes:
    """One A4 page: a title, a subtitle, rows of label and value, a QR code of `qr_url`
    with its caption and address, and a footer."""
    font = _font()
    buffer = io.BytesIO()
    width, height = A4
    pdf = Canvas(buffer, pagesize=A4, initialFontName=font)
    pdf.setTitle(document_title)
    pdf.setSubject(subject)
    pdf.setAuthor("onestop")
    left, top = 20 * mm, height - 25 * mm

    pdf.setFont(font, 18)
    pdf.drawString(left, top, title)
    y = top - 10 * mm
    pdf.setFont(font, 14)
    for line in simpleSplit(subtitle, font, 14, width - left * 2) or [""]:
        pdf.drawString(left, y, line)
        y -= 7 * mm

    y -= 7 * mm
    label_width, text_width = 45 * mm, width - left * 2 - 45 * mm
    for label, value in rows:
        pdf.setFont(font, 9)
        label_y = y
        for line in simpleSplit(label, font, 9, label_width - 3 * mm) or [""]:
            pdf.drawString(left, label_y, line)
            label_y -= 4 * mm
        pdf.setFont(font, 11)
        for line in simpleSplit(value, font, 11, text_width) or [""]:
            pdf.drawString(left + label_width, y, line)
            y -= 5.5 * mm
        y = min(y, label_y - 1.5 * mm) - 2.5 * mm

    y -= QR_SIZE
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(QrCodeWidget(qr_url, barLevel="M", barWidth=QR_SIZE, barHeight=QR_SIZE))
    renderPDF.draw(drawing, pdf, left, y)
    # In a PDF viewer the code is a link too.
    pdf.linkURL(qr_url, (left, y, left + QR_SIZE, y + QR_SIZE), relative=0)

    pdf.setFont(font, 10)
    caption_x = left + QR_SIZE + 6 * mm
    caption_width = width - caption_x - left
    line_y = y + QR_SIZE - 5 * mm
    for line in simpleSplit(caption, font, 10, caption_width):
        pdf.drawString(caption_x, line_y, line)
        line_y -= 5 * mm
    pdf.setFont(font, 8)
    for line in simpleSplit(qr_url, font, 8, caption_width):
        pdf.drawString(caption_x, line_y - 2 * mm, line)
        line_y -= 4 * mm

    pdf.setFont(font, 8)
    pdf.drawString(left, 15 * mm, footer)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()

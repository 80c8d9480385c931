"""The receipt of an application: one PDF page with what the applicant needs to follow it,
and a QR code that opens its public status page.

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


def render(receipt: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF."""
    font = _font()
    buffer = io.BytesIO()
    width, height = A4
    pdf = Canvas(buffer, pagesize=A4, initialFontName=font)
    pdf.setTitle(_("Receipt for application %(number)s") % {"number": receipt.number})
    pdf.setSubject(receipt.number)
    pdf.setAuthor("onestop")
    left, top = 20 * mm, height - 25 * mm

    pdf.setFont(font, 18)
    pdf.drawString(left, top, _("Application receipt"))
    pdf.setFont(font, 14)
    pdf.drawString(left, top - 10 * mm, receipt.number)

    y = top - 24 * mm
    label_width, text_width = 45 * mm, width - left * 2 - 45 * mm
    for label, value in receipt.rows:
        pdf.setFont(font, 9)
        pdf.drawString(left, y, label)
        pdf.setFont(font, 11)
        lines = simpleSplit(value, font, 11, text_width) or [""]
        for line in lines:
            pdf.drawString(left + label_width, y, line)
            y -= 5.5 * mm
        y -= 2.5 * mm

    y -= QR_SIZE
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(QrCodeWidget(receipt.status_url, barLevel="M", barWidth=QR_SIZE,
                             barHeight=QR_SIZE))
    renderPDF.draw(drawing, pdf, left, y)
    # In a PDF viewer the code is a link too.
    pdf.linkURL(receipt.status_url, (left, y, left + QR_SIZE, y + QR_SIZE), relative=0)

    pdf.setFont(font, 10)
    caption_x = left + QR_SIZE + 6 * mm
    caption_width = width - caption_x - left
    caption = _("Scan the code, or open the address below and enter the number and the "
                "access code, to check the status of the application at any time.")
    line_y = y + QR_SIZE - 5 * mm
    for line in simpleSplit(caption, font, 10, caption_width):
        pdf.drawString(caption_x, line_y, line)
        line_y -= 5 * mm
    pdf.setFont(font, 8)
    for line in simpleSplit(receipt.status_url, font, 8, caption_width):
        pdf.drawString(caption_x, line_y - 2 * mm, line)
        line_y -= 4 * mm

    pdf.setFont(font, 8)
    pdf.drawString(left, 15 * mm, _("Keep this receipt. The number and the access code "
                                     "show the status only, never your personal data."))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()

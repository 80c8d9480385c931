"""The optimisation report as a PDF: A4 pages in DejaVu Sans (the font the receipts
ship, with Cyrillic and Kazakh letters), the three recommended changes with their
evidence and estimate, then each service's slowest stage and the other candidates."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from onestop.applications.receipts import FONT, FONT_FILE
from onestop.core.text import localize
from onestop.integrity.optimisation import Report
from onestop.integrity.optimisation_text import KIND_NAMES, change_evidence, change_title

LEFT = 20 * mm
BOTTOM = 20 * mm


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    return FONT


class _Writer:
    def __init__(self, pdf: Canvas, font: str) -> None:
        self.pdf, self.font = pdf, font
        self.width, self.height = A4
        self.y = self.height - 25 * mm

    def line(self, text: str, size: float = 10, indent: float = 0, gap: float = 1.5) -> None:
        usable = self.width - 2 * LEFT - indent
        for part in simpleSplit(text, self.font, size, usable) or [""]:
            if self.y < BOTTOM:
                self.pdf.showPage()
                self.y = self.height - 20 * mm
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(LEFT + indent, self.y, part)
            self.y -= size * 0.45 * mm
        self.y -= gap * mm


def render_pdf(report: Report, language: str) -> bytes:
    """The report in the active language (`language` picks names from the register)."""
    font = _font()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, initialFontName=font)
    agency = localize(report.agency.name, language, report.country.languages)
    pdf.setTitle(f"onestop optimisation report {report.agency.code} {report.period}")
    pdf.setSubject(" ".join(f"{c.kind}:{c.subject}" for c in report.recommended))
    pdf.setAuthor("onestop")
    w = _Writer(pdf, font)
    w.line(_("Optimisation report"), 18, gap=2)
    w.line(f"{agency} ({report.agency.code}) · {report.period}", 12, gap=1)
    w.line(_("Applications submitted from %(start)s to %(end)s (UTC), events known by "
             "%(as_of)s.") % {"start": f"{report.start:%Y-%m-%d %H:%M}",
                             "end": f"{report.end:%Y-%m-%d %H:%M}",
                             "as_of": f"{report.as_of:%Y-%m-%d %H:%M}"}, 9, gap=4)
    w.line(_("The three changes that would save the most citizen-days"), 14, gap=2)
    if not report.recommended:
        w.line(_("No change found that would save citizen-days in this period."), 10)
    for rank, change in enumerate(report.recommended, start=1):
        w.line(f"{rank}. {change_title(change, report)}", 11, gap=1)
        w.line(f"{KIND_NAMES[change.kind]} · " + _("estimated saving: %(days)s citizen-days")
               % {"days": f"{change.saving_days:.2f}"}, 9, indent=6 * mm, gap=1)
        w.line(change_evidence(change), 9, indent=6 * mm, gap=3)
    w.line(_("Services analysed"), 14, gap=2)
    for result in report.analyses:
        a = result.analysis
        w.line(_("%(service)s: %(n)s applications, %(finished)s finished; slowest stage: "
                 "%(slowest)s; most of the deadline: %(deadline)s") % {
            "service": result.service.code, "n": a.applications, "finished": a.finished,
            "slowest": a.slowest_stage or "–", "deadline": a.most_deadline_stage or "–"}, 9)
    others = report.candidates[len(report.recommended):]
    if others:
        w.line(_("Other candidates"), 14, gap=2)
        for change in others:
            w.line(f"{change_title(change, report)} · {change.saving_days:.2f}", 9)
    w.line(_("How the estimates are made: docs/bottlenecks.md."), 8, gap=0)
    pdf.save()
    return buffer.getvalue()

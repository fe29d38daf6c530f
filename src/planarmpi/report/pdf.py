"""Report → PDF with ReportLab (no system libraries; the Bitstream Vera fonts it ships)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from planarmpi.report.model import Report

__all__ = ["render_pdf"]

_FONTS_READY = False


def _fonts() -> tuple[str, str]:
    global _FONTS_READY
    if not _FONTS_READY:
        import reportlab

        folder = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont("Vera", str(folder / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("VeraBd", str(folder / "VeraBd.ttf")))
        _FONTS_READY = True
    return "Vera", "VeraBd"


def _t(text: str) -> str:
    # Vera has no arrow glyph; everything else the report writes (≥, −, µ, °, ±) it has.
    return escape(text.replace(" → ", " to ").replace("→", "to"))


def render_pdf(report: Report, figures_dir: str | os.PathLike[str] | None = None) -> bytes:
    """The report as an A4 PDF: impression first, sections, figures, signature block.

    Parameters
    ----------
    report : Report
    figures_dir : path, optional
        Folder holding the figure files the report names; figures not found are listed by
        caption only.

    Returns
    -------
    bytes
        The PDF document (deterministic for the same report: no creation time beyond the
        report's own clock).
    """
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12.5,
                          alignment=TA_LEFT)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14,
                        spaceBefore=8, spaceAfter=3, textColor=colors.HexColor("#1f3b5a"))
    strong = ParagraphStyle("strong", parent=base, fontName=bold, fontSize=10.5, leading=14)
    draft = report.status != "final"

    story: list = [Paragraph(_t(report.title), h1),
                   Paragraph(_t(report.patient_line), base),
                   Paragraph(_t(f"Report {report.status}"
                                + (" — DRAFT, not signed" if draft else "")
                                + f" · generated {report.generated_at:%Y-%m-%d %H:%M} by "
                                  f"{report.software}"), small),
                   Spacer(1, 4 * mm), Paragraph("Impression", h2)]
    lines = [Paragraph(_t(line), strong if i == 0 else base)
             for i, line in enumerate(report.impression)]
    box = Table([[ln] for ln in lines], colWidths=[170 * mm])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                             ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f3f3f3")),
                             ("LEFTPADDING", (0, 0), (-1, -1), 6)]))
    story.append(box)
    for section in report.sections:
        block: list = [Paragraph(_t(section.title), h2)]
        if section.items:
            rows = [[Paragraph(_t(i.label), small), Paragraph(_t(i.value), base)]
                    for i in section.items]
            t = Table(rows, colWidths=[42 * mm, 128 * mm])
            t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#444444")),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1)]))
            block.append(t)
        block += [Paragraph(_t(p), base) for p in section.paragraphs]
        story.append(KeepTogether(block[:3]))
        story += block[3:]
        if section.table:
            rows = [[Paragraph(_t(c), small) for c in row] for row in section.table]
            n = len(section.table[0])
            first = 58 * mm
            t = Table(rows, repeatRows=1,
                      colWidths=[first] + [(170 * mm - first) / (n - 1)] * (n - 1))
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e8ee")),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
            story += [Spacer(1, 2 * mm), t]
    last: list[Any] = []  # the last figure stays with the signature (no lone signature page)
    for index, fig in enumerate(report.figures):
        path = Path(figures_dir or ".") / fig.file
        flow: list[Any] = [Paragraph(_t(fig.caption), h2)]
        if path.is_file():
            img = Image(str(path))
            scale = min(170 * mm / img.imageWidth, 120 * mm / img.imageHeight)
            img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
            flow.append(img)
        else:
            flow.append(Paragraph(_t(f"(figure file {fig.file} not found)"), small))
        if index == len(report.figures) - 1:
            last = flow
        else:
            story += flow
    if not draft and report.signed_at is not None:
        sign = (f"Electronically signed by {report.interpreting_physician} on "
                f"{report.signed_at:%Y-%m-%d %H:%M}.")
    else:
        sign = (f"Interpreting physician: {report.interpreting_physician or '_' * 24}"
                "      Signature: ________________      Date: ____________  "
                "(draft awaiting review and signature)")
    story.append(KeepTogether([*last, Spacer(1, 10 * mm),
                               Table([[Paragraph(_t(sign), base)]], colWidths=[170 * mm],
                                     style=[("LINEABOVE", (0, 0), (-1, 0), 0.8,
                                             colors.black)])]))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawString(20 * mm, 10 * mm, f"{report.patient_line} · {report.software}"
                          .replace("→", "to"))
        canvas.drawRightString(190 * mm, 10 * mm, f"page {doc.page}")
        if draft:
            canvas.setFont(bold, 9)
            canvas.setFillColor(colors.HexColor("#aa0000"))
            canvas.drawRightString(190 * mm, 287 * mm, "DRAFT — NOT SIGNED")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=15 * mm, bottomMargin=18 * mm, title=report.title,
                            author=report.interpreting_physician or "planarmpi",
                            creator=report.software, invariant=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

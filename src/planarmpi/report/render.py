"""Report → plain text and HTML (the PDF is in :mod:`planarmpi.report.pdf`)."""

from __future__ import annotations

import textwrap

from jinja2 import Environment, PackageLoader, select_autoescape

from planarmpi.report.model import Report

__all__ = ["render_html", "render_text"]

_WIDTH = 92


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent,
                         subsequent_indent=indent + "  ") or [indent]


def render_text(report: Report) -> str:
    """The report as plain text, 92 columns (for the EHR and for reading in a terminal)."""
    out = [report.title.upper(), report.patient_line,
           f"Report {report.status}{' — DRAFT, not signed' if report.status == 'draft' else ''}"
           f" · generated {report.generated_at:%Y-%m-%d %H:%M} by {report.software}", "",
           "IMPRESSION"]
    for line in report.impression:
        out += _wrap(line, "  ")
    for section in report.sections:
        out += ["", section.title.upper()]
        width = max((len(i.label) for i in section.items), default=0)
        for item in section.items:
            out += _wrap(f"{item.label.ljust(width)}  {item.value}", "  ")
        for para in section.paragraphs:
            out += _wrap(para, "  ")
        if section.table:
            widths = [max(len(row[c]) for row in section.table)
                      for c in range(len(section.table[0]))]
            for row in section.table:
                out.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths,
                                                                              strict=True))
                           .rstrip())
    if report.figures:
        out += ["", "FIGURES"] + [f"  {f.file}: {f.caption}" for f in report.figures]
    out.append("")
    if report.status == "final" and report.signed_at is not None:
        out.append(f"Electronically signed by {report.interpreting_physician} on "
                   f"{report.signed_at:%Y-%m-%d %H:%M}.")
    else:
        out.append(f"Interpreting physician: {report.interpreting_physician or '_' * 16} — "
                   "draft awaiting review and signature.")
    return "\n".join(out) + "\n"


def render_html(report: Report) -> str:
    """The report as a standalone HTML page (figures referenced by file name)."""
    env = Environment(loader=PackageLoader("planarmpi.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), keep_trailing_newline=True)
    return env.get_template("report.html.j2").render(r=report)

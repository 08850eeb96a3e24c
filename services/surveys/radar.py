"""An accessible radar chart of the self-check's scores per field: inline SVG for pages and
PDFs (title/desc; the data is also given as a table), PNG for DOCX, and its text alternative.

Here, not in api/, because the results page and the resolution documents both draw it."""

from __future__ import annotations

import io
import math
from html import escape
from typing import Any


def radar_description(blocks: list[dict[str, Any]]) -> str:
    """The chart as text (its alternative): every field with its score or "unterdrückt"."""
    return "; ".join(
        f"{b['title']}: " + ("unterdrückt" if b.get("score") is None else f"{b['score']} %")
        for b in blocks)


def _geometry(n: int, size: int) -> tuple[float, float, Any]:
    c = size / 2
    radius = size / 2 - 70

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return c + radius * value / 100 * math.cos(angle), c + radius * value / 100 * math.sin(
            angle)

    return c, radius, point


def radar_png(blocks: list[dict[str, Any]], *, size: int = 360) -> bytes:
    """The same chart as a PNG (Word documents take no SVG); empty below three fields."""
    from PIL import Image, ImageDraw  # only the document renderer needs Pillow

    n = len(blocks)
    if n < 3:
        return b""
    scale = 2  # drawn at twice the size, for print
    c, _, point = _geometry(n, size)
    img = Image.new("RGB", (size * scale, size * scale), "white")
    draw = ImageDraw.Draw(img, "RGBA")

    def px(p: tuple[float, float]) -> tuple[float, float]:
        return p[0] * scale, p[1] * scale

    for ring in (25, 50, 75, 100):
        draw.polygon([px(point(i, ring)) for i in range(n)], outline=(138, 138, 138))
    for i in range(n):
        draw.line([px((c, c)), px(point(i, 100))], fill=(138, 138, 138))
        draw.text(px(point(i, 118)), str(i + 1), fill=(26, 26, 26), anchor="mm",
                  font_size=11 * scale)
    shape = [px(point(i, float(b.get("score") or 0))) for i, b in enumerate(blocks)]
    draw.polygon(shape, fill=(11, 83, 148, 64), outline=(11, 83, 148), width=2 * scale)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def radar_svg(blocks: list[dict[str, Any]], *, size: int = 360, title: str = "") -> str:
    """Scores 0-100 per field; suppressed fields are drawn at 0 and named in the description."""
    n = len(blocks)
    if n < 3:
        return ""
    c, _, point = _geometry(n, size)
    desc = radar_description(blocks)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
             f'width="100%" style="max-width:{size}px" role="img" '
             f'aria-labelledby="radar-title radar-desc">',
             f'<title id="radar-title">{escape(title or "Punktzahl je Handlungsfeld")}</title>',
             f'<desc id="radar-desc">{escape(desc)}</desc>']
    for ring in (25, 50, 75, 100):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#8a8a8a" '
                     f'stroke-width="1"/>')
    for i in range(n):
        x, y = point(i, 100)
        parts.append(f'<line x1="{c}" y1="{c}" x2="{x:.1f}" y2="{y:.1f}" stroke="#8a8a8a"/>')
        lx, ly = point(i, 118)
        anchor = "middle" if abs(lx - c) < 5 else ("start" if lx > c else "end")
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" text-anchor="{anchor}" '
                     f'fill="#1a1a1a">{i + 1}</text>')
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in
                   (point(i, float(b.get("score") or 0)) for i, b in enumerate(blocks)))
    parts.append(f'<polygon points="{pts}" fill="#0b5394" fill-opacity="0.25" '
                 f'stroke="#0b5394" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)

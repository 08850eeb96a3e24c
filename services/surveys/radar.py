"""An accessible radar chart of the self-check's scores per field: inline SVG for pages and
PDFs (title/desc; the data is also given as a table), PNG for downloads and DOCX, and its text
alternative.

Both drawings come from one layout (`_layout`): the axes, the rings of the scale (0, 25, 50, 75,
100 %, labelled on the first axis) and each field's name with its score at the end of its axis,
wrapped into short lines. A reader of the picture alone (a printed PNG in a council paper) sees
which corner is which field and what the rings mean.

Here, not in api/, because the results page and the resolution documents both draw it."""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from html import escape
from typing import Any

RINGS = (25, 50, 75, 100)
WIDTH, HEIGHT = 640, 520
LABEL_CHARS = 22  # a field's name is wrapped at about this many characters per line
FONT_SIZE = 12
LINE_HEIGHT = 15
GRID, INK, SHAPE = "#767676", "#1a1a1a", "#0b5394"  # grey with 4.5:1 on white


def score_text(block: dict[str, Any]) -> str:
    score = block.get("score")
    return "unterdrückt" if score is None else f"{score:.1f} %".replace(".", ",")


def radar_description(blocks: list[dict[str, Any]]) -> str:
    """The chart as text (its alternative): every field with its score or "unterdrückt"."""
    return "; ".join(f"{b['title']}: {score_text(b)}" for b in blocks)


@dataclass(frozen=True)
class _Label:
    x: float
    lines: list[str]
    top: float  # y of the first line's top
    align: str  # "start" | "middle" | "end"


@dataclass(frozen=True)
class _Layout:
    cx: float
    cy: float
    radius: float
    n: int

    def point(self, i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / self.n
        r = self.radius * max(0.0, min(value, 100.0)) / 100
        return self.cx + r * math.cos(angle), self.cy + r * math.sin(angle)

    def label(self, i: int, block: dict[str, Any]) -> _Label:
        lines = textwrap.wrap(str(block.get("title") or ""), LABEL_CHARS) or [""]
        lines.append(f"({score_text(block)})")
        angle = -math.pi / 2 + 2 * math.pi * i / self.n
        dx, dy = math.cos(angle), math.sin(angle)
        x = self.cx + (self.radius + 12) * dx
        y = self.cy + (self.radius + 12) * dy
        align = "middle" if abs(dx) < 0.2 else ("start" if dx > 0 else "end")
        height = len(lines) * LINE_HEIGHT
        # Above the centre the text grows upwards from the axis' end, below it downwards.
        top = y - height if dy < -0.3 else (y if dy > 0.3 else y - height / 2)
        return _Label(x, lines, top, align)


def _layout(n: int) -> _Layout:
    return _Layout(WIDTH / 2, HEIGHT / 2, HEIGHT / 2 - 95, n)


# A scalable font with umlauts from the system (fonts-dejavu-core in the image, Liberation on
# many desktops); Pillow's built-in font has no umlauts, so with it they are spelled out.
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
              "/usr/share/fonts/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")
_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                          "ß": "ss", "–": "-"})


def _font(size: int) -> tuple[Any, bool]:
    """(font, has umlauts)."""
    from PIL import ImageFont

    for path in FONT_FILES:
        try:
            return ImageFont.truetype(path, size), True
        except OSError:
            continue
    return ImageFont.load_default(size=size), False


def _ring_label(ring: int) -> str:
    return f"{ring} %"


def radar_png(blocks: list[dict[str, Any]], *, scale: int = 2) -> bytes:
    """The same chart as a PNG (Word documents and downloads); empty below three fields.
    Drawn with Pillow's built-in scalable font, so nothing is fetched at run time."""
    from PIL import Image, ImageDraw  # only the PNG needs Pillow

    n = len(blocks)
    if n < 3:
        return b""
    lay = _layout(n)
    img = Image.new("RGB", (WIDTH * scale, HEIGHT * scale), "white")
    draw = ImageDraw.Draw(img, "RGBA")
    font, umlauts = _font(FONT_SIZE * scale)

    def fit(line: str) -> str:
        return line if umlauts else line.translate(_SPELLED)

    def px(p: tuple[float, float]) -> tuple[float, float]:
        return p[0] * scale, p[1] * scale

    for ring in RINGS:
        draw.polygon([px(lay.point(i, ring)) for i in range(n)], outline=GRID)
    for i in range(n):
        draw.line([px((lay.cx, lay.cy)), px(lay.point(i, 100))], fill=GRID)
    shape = [px(lay.point(i, float(b.get("score") or 0))) for i, b in enumerate(blocks)]
    draw.polygon(shape, fill=(11, 83, 148, 64), outline=SHAPE, width=2 * scale)
    for ring in RINGS:
        x, y = lay.point(0, ring)
        draw.text(px((x + 4, y)), _ring_label(ring), fill=INK, anchor="lm", font=font)
    anchors = {"start": "la", "middle": "ma", "end": "ra"}
    for i, b in enumerate(blocks):
        lab = lay.label(i, b)
        for j, line in enumerate(lab.lines):
            draw.text(px((lab.x, lab.top + j * LINE_HEIGHT)), fit(line), fill=INK,
                      anchor=anchors[lab.align], font=font)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def radar_svg(blocks: list[dict[str, Any]], *, title: str = "") -> str:
    """Scores 0-100 per field; suppressed fields are drawn at 0 and say "unterdrückt"."""
    n = len(blocks)
    if n < 3:
        return ""
    lay = _layout(n)
    desc = radar_description(blocks)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" style="max-width:{WIDTH}px" role="img" '
             f'aria-labelledby="radar-title radar-desc" font-family="sans-serif">',
             f'<title id="radar-title">{escape(title or "Punktzahl je Handlungsfeld")}</title>',
             f'<desc id="radar-desc">{escape(desc)}</desc>']
    for ring in RINGS:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (lay.point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="{GRID}" '
                     f'stroke-width="1"/>')
    for i in range(n):
        x, y = lay.point(i, 100)
        parts.append(f'<line x1="{lay.cx}" y1="{lay.cy}" x2="{x:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}"/>')
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in
                   (lay.point(i, float(b.get("score") or 0)) for i, b in enumerate(blocks)))
    parts.append(f'<polygon points="{pts}" fill="{SHAPE}" fill-opacity="0.25" '
                 f'stroke="{SHAPE}" stroke-width="2"/>')
    for ring in RINGS:
        x, y = lay.point(0, ring)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 4:.1f}" font-size="{FONT_SIZE - 1}" '
                     f'fill="{INK}">{_ring_label(ring)}</text>')
    for i, b in enumerate(blocks):
        lab = lay.label(i, b)
        spans = "".join(
            f'<tspan x="{lab.x:.1f}" y="{lab.top + (j + 0.8) * LINE_HEIGHT:.1f}">'
            f'{escape(line)}</tspan>' for j, line in enumerate(lab.lines))
        parts.append(f'<text font-size="{FONT_SIZE}" text-anchor="{lab.align}" '
                     f'fill="{INK}">{spans}</text>')
    parts.append("</svg>")
    return "".join(parts)

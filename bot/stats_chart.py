"""The statistics chart as a PNG: questions a day stacked by triage level, no-match answers and
👎 as lines; drawn and encoded here with zlib and struct (no imaging library in the venv)."""

from __future__ import annotations

import itertools
import struct
import zlib

from bot.stats import LEVELS, Report

WIDTH, HEIGHT = 800, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 34  # margins around the plot, in pixels
Color = tuple[int, int, int]
BACKGROUND: Color = (255, 255, 255)
GRID: Color = (228, 228, 228)
INK: Color = (70, 70, 70)
LEVEL_COLORS: dict[str, Color] = {"emergency": (214, 39, 40), "urgent": (255, 127, 14),
                                  "routine": (31, 119, 180)}
NO_MATCH: Color = (120, 120, 120)
THUMBS_DOWN: Color = (148, 60, 190)
LEGEND = ("Bars: questions a day, stacked by triage level (red emergency, orange urgent, blue "
          "routine). Grey line: no-match answers. Purple line: 👎. Days in UTC.")

# 3×5 digits and "-", one string of 15 bits per glyph, row by row.
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", "-": "000000111000000",
}
SCALE = 2  # glyph pixels per font pixel


class Canvas:
    """An RGB raster with rectangles, lines and digits."""

    def __init__(self, width: int, height: int, color: Color = BACKGROUND) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(color) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x0 >= x1:
            return
        run = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + len(run)] = run

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color, thick: int = 2) -> None:
        """A straight line `thick` pixels wide."""
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            x = round(x0 + (x1 - x0) * i / steps)
            y = round(y0 + (y1 - y0) * i / steps)
            self.rect(x - thick // 2, y - thick // 2, x - thick // 2 + thick,
                      y - thick // 2 + thick, color)

    def text(self, x: int, y: int, text: str, color: Color = INK) -> None:
        """Digits and dashes with their top left corner at (x, y)."""
        for char in text:
            for bit, on in enumerate(_GLYPHS.get(char, "0" * 15)):
                if on == "1":
                    px, py = x + bit % 3 * SCALE, y + bit // 3 * SCALE
                    self.rect(px, py, px + SCALE, py + SCALE, color)
            x += 4 * SCALE

    def png(self) -> bytes:
        """The canvas as a PNG file (8-bit RGB, no filter)."""
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride])
                       for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
                + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def text_width(text: str) -> int:
    """The width of `text` drawn by Canvas.text, in pixels."""
    return max(len(text) * 4 * SCALE - SCALE, 0)


def _scale(peak: int) -> tuple[int, int]:
    """A round step (1, 2, 5, 10, 20, …) for at most five grid lines above zero, and the top of
    the axis (a multiple of it)."""
    step, factors = 1, itertools.cycle((2, 2.5, 2))
    while step * 5 < peak:
        step = int(step * next(factors))
    return step, max(step, -(-peak // step) * step)


def render_png(report: Report, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The report's days as a chart (PNG bytes); see LEGEND for what it shows."""
    canvas = Canvas(width, height)
    days = report.days
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    peak = max([1] + [max(d.questions, d.no_match, d.thumbs_down) for d in days])
    step, top = _scale(peak)
    bottom = TOP + plot_h

    def y_of(value: int) -> int:
        return bottom - round(value * plot_h / top)

    for value in range(0, top + 1, step):
        canvas.rect(LEFT, y_of(value), LEFT + plot_w, y_of(value) + 1, GRID)
        label = str(value)
        canvas.text(LEFT - 6 - text_width(label), y_of(value) - 5 * SCALE // 2, label)
    slot = plot_w / len(days)
    bar = max(1, round(slot * 0.7))
    centers = [round(LEFT + slot * (i + 0.5)) for i in range(len(days))]
    for i, (day, x) in enumerate(zip(days, centers, strict=True)):
        stacked = 0
        for level in reversed(LEVELS):  # routine at the bottom, emergency on top
            count = day.by_level.get(level, 0)
            if count:
                canvas.rect(x - bar // 2, y_of(stacked + count), x - bar // 2 + bar,
                            y_of(stacked), LEVEL_COLORS[level])
                stacked += count
        if (len(days) - 1 - i) % max(1, round(40 / slot) + 1) == 0:  # the last day labelled
            label = day.day[5:]
            left = min(max(x - text_width(label) // 2, 0), width - text_width(label))
            canvas.rect(x, bottom, x + 1, bottom + 4, INK)
            canvas.text(left, bottom + 8, label)
    canvas.rect(LEFT, bottom, LEFT + plot_w, bottom + 1, INK)
    canvas.rect(LEFT - 1, TOP, LEFT, bottom + 1, INK)
    for color, values in ((NO_MATCH, [d.no_match for d in days]),
                          (THUMBS_DOWN, [d.thumbs_down for d in days])):
        points = [(x, y_of(v)) for x, v in zip(centers, values, strict=True)]
        for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
            canvas.line(xa, ya, xb, yb, color)
        for (x, y), value in zip(points, values, strict=True):
            if value:
                canvas.rect(x - 3, y - 3, x + 3, y + 3, color)
    return canvas.png()

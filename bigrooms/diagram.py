"""Lay out and draw a quality-improvement driver diagram, read left to right.

Aim -> primary drivers -> secondary (and deeper) drivers -> change ideas. The caller turns
its rows into Node and Idea values; layout() places every box, and to_svg() and to_png()
draw the same Layout. Pure Python and Pillow: no Django here.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

FONT_FAMILY = "Arial, Helvetica, sans-serif"
FONT_SIZE = 16  # the projector minimum; nothing is drawn smaller
TITLE_FONT_SIZE = 18
CHAR_WIDTH = 0.55 * FONT_SIZE  # average sans-serif glyph width: the wrap estimate
LINE_HEIGHT = 22
BOX_WIDTH = 240
PADDING = 12
CHARS_PER_LINE = int((BOX_WIDTH - 2 * PADDING) // CHAR_WIDTH)
COLUMN_GAP = 72  # room for the curves between columns
ROW_GAP = 16
MARGIN = 24
HEADER = 40  # the band above the boxes that holds the column titles
TEXT_DARK = "#212b32"
LINE_COLOUR = "#425563"


@dataclass(frozen=True)
class Style:
    fill: str
    text: str
    border: str


# NHS palette; every text/fill pair has a contrast ratio of at least 4.5:1 (tested).
STYLES: dict[str, Style] = {
    "aim": Style(fill="#005eb8", text="#ffffff", border="#005eb8"),
    "primary": Style(fill="#41b6e6", text=TEXT_DARK, border="#005eb8"),
    "secondary": Style(fill="#ffffff", text=TEXT_DARK, border="#005eb8"),
    "idea": Style(fill="#fff9c4", text=TEXT_DARK, border=LINE_COLOUR),
}


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    title: str


@dataclass(frozen=True)
class Idea:
    id: int
    title: str
    driver_ids: tuple[int, ...]


@dataclass(frozen=True)
class Box:
    key: str
    text: str
    lines: tuple[str, ...]
    x: float
    y: float
    width: float
    height: float
    column: int
    kind: str


@dataclass(frozen=True)
class Layout:
    boxes: tuple[Box, ...]
    links: tuple[tuple[str, str], ...]
    width: float
    height: float
    column_titles: tuple[str, ...]


def wrap(text: str, chars: int = CHARS_PER_LINE) -> tuple[str, ...]:
    """Whole words per line; a word longer than a line is the only thing ever broken."""
    return tuple(textwrap.wrap(text, chars, break_on_hyphens=False))


def _box_height(lines: tuple[str, ...]) -> float:
    return 2 * PADDING + max(1, len(lines)) * LINE_HEIGHT


@dataclass
class _Forest:
    nodes: dict[int, Node]
    tops: list[int]
    kids: dict[int, list[int]]
    depth: dict[int, int]


def _forest(nodes: Sequence[Node]) -> _Forest:
    by_id: dict[int, Node] = {}
    for node in nodes:
        by_id.setdefault(node.id, node)
    wanted: dict[int, list[int]] = {i: [] for i in by_id}
    roots = []
    for node in by_id.values():
        if node.parent_id in by_id:
            wanted[node.parent_id].append(node.id)
        else:
            roots.append(node.id)  # no parent, or an unknown one: a primary driver
    forest = _Forest(by_id, [], {}, {})

    def visit(i: int, depth: int) -> None:
        forest.depth[i] = depth
        forest.kids[i] = []
        for kid in wanted[i]:
            if kid not in forest.depth:  # the visited set: a cycle cannot loop
                forest.kids[i].append(kid)
                visit(kid, depth + 1)

    # Nodes reached from no root (only in a cycle) become primaries rather than vanish.
    for i in [*roots, *by_id]:
        if i not in forest.depth:
            forest.tops.append(i)
            visit(i, 1)
    return forest


def _extents(forest: _Forest, heights: dict[int, float], pad: float) -> dict[int, float]:
    """The vertical band each subtree needs; each leaf gets its own band, plus pad."""
    extent: dict[int, float] = {}

    def measure(i: int) -> None:
        kids = forest.kids[i]
        for kid in kids:
            measure(kid)
        extent[i] = max(heights[i] + (0 if kids else pad), _stack(kids, extent))

    for top in forest.tops:
        measure(top)
    return extent


def _stack(items: list[int], extent: dict[int, float]) -> float:
    """The height of bands stacked with a gap between each."""
    return sum(extent[i] for i in items) + ROW_GAP * max(0, len(items) - 1)


Sizes = dict[int, float]


def _place(forest: _Forest, extent: Sizes, heights: Sizes, i: int, top: float, ys: Sizes) -> None:
    kids, height = forest.kids[i], heights[i]
    if not kids:
        ys[i] = top + (extent[i] - height) / 2
        return
    y = top + (extent[i] - _stack(kids, extent)) / 2
    for kid in kids:
        _place(forest, extent, heights, kid, y, ys)
        y += extent[kid] + ROW_GAP
    first, last = ys[kids[0]], ys[kids[-1]] + heights[kids[-1]]
    # Centred on its children, but kept inside its own band so columns never overlap.
    ys[i] = min(max((first + last - height) / 2, top), top + extent[i] - height)


def _column_titles(levels: int) -> tuple[str, ...]:
    # Every title distinct, so deeper levels never read as a second "Secondary drivers".
    deeper = [f"Level {depth} drivers" for depth in range(3, levels + 1)]
    deeper = ["Further drivers"] if levels == 3 else deeper
    return ("Aim", *("Primary drivers", "Secondary drivers")[:levels], *deeper, "Change ideas")


def _column_x(column: int) -> float:
    return MARGIN + (column - 1) * (BOX_WIDTH + COLUMN_GAP)


def layout(aim: str, nodes: Sequence[Node], ideas: Sequence[Idea]) -> Layout:
    """Place the aim, the drivers (one column per level) and the change ideas."""
    forest = _forest(nodes)
    lines = {i: wrap(node.title) for i, node in forest.nodes.items()}
    heights = {i: _box_height(ls) for i, ls in lines.items()}
    idea_lines = [wrap(idea.title) for idea in ideas]
    aim_lines, top = wrap(aim), MARGIN + HEADER
    aim_height = _box_height(aim_lines)
    idea_stack = sum(_box_height(ls) + ROW_GAP for ls in idea_lines)
    content, ys = _driver_rows(forest, heights, max(idea_stack, aim_height), top)

    boxes: list[Box] = []
    links: list[tuple[str, str]] = [("aim", f"driver-{i}") for i in forest.tops]
    for i, depth in forest.depth.items():  # visited depth first: parents before children
        kind, key, x = "primary" if depth == 1 else "secondary", f"driver-{i}", _column_x(depth + 1)
        text, height = forest.nodes[i].title, heights[i]
        boxes.append(Box(key, text, lines[i], x, ys[i], BOX_WIDTH, height, depth + 1, kind))
        links.extend((key, f"driver-{k}") for k in forest.kids[i])
    y = top
    if boxes:  # the aim is centred on all the drivers
        first, last = min(b.y for b in boxes), max(b.y + b.height for b in boxes)
        y = min(max((first + last - aim_height) / 2, top), top + content - aim_height)
    boxes.insert(0, Box("aim", aim, aim_lines, _column_x(1), y, BOX_WIDTH, aim_height, 1, "aim"))
    levels = max(forest.depth.values(), default=0)
    _add_ideas(ideas, idea_lines, ys, (top, content, levels + 2), boxes, links)
    width = 2 * MARGIN + (levels + 2) * BOX_WIDTH + (levels + 1) * COLUMN_GAP
    return Layout(tuple(boxes), tuple(links), width, top + content + MARGIN, _column_titles(levels))


def _driver_rows(forest: _Forest, heights: Sizes, others: float, top: float) -> tuple[float, Sizes]:
    """The content height and each driver's y, the tree stretched to the other columns."""
    tree = _stack(forest.tops, _extents(forest, heights, 0))
    leaves = [i for i, kids in forest.kids.items() if not kids]
    # Balance the columns: when the ideas are taller, the leaf bands share the extra room.
    pad = (others - tree) / len(leaves) if leaves and others > tree else 0
    extent = _extents(forest, heights, pad)
    content = max(others, _stack(forest.tops, extent))
    ys: Sizes = {}
    y = top + (content - _stack(forest.tops, extent)) / 2
    for i in forest.tops:
        _place(forest, extent, heights, i, y, ys)
        y += extent[i] + ROW_GAP
    return content, ys


def _add_ideas(
    ideas: Sequence[Idea],
    lines: list[tuple[str, ...]],
    ys: Sizes,
    place: tuple[float, float, int],
    boxes: list[Box],
    links: list[tuple[str, str]],
) -> None:
    """Ideas in the order of the topmost driver each serves, spread evenly down the column."""
    top, content, column = place

    def order(n: int) -> tuple[int, float, int]:
        served = [ys[d] for d in ideas[n].driver_ids if d in ys]
        return (0, min(served), n) if served else (1, 0.0, n)

    ordered = sorted(range(len(ideas)), key=order)
    gap = (content - sum(_box_height(lines[n]) for n in ordered)) / max(1, len(ordered))
    y = top + gap / 2
    for n in ordered:
        idea, key, height = ideas[n], f"idea-{ideas[n].id}", _box_height(lines[n])
        boxes.append(
            Box(key, idea.title, lines[n], _column_x(column), y, BOX_WIDTH, height, column, "idea")
        )
        y += height + gap
        drivers = dict.fromkeys(d for d in idea.driver_ids if d in ys)  # known, deduplicated
        links.extend((f"driver-{d}", key) for d in drivers)


def _curve(diagram: Layout) -> list[tuple[float, float, float, float, float]]:
    """(x1, y1, bend, x2, y2): from the right edge of the left box to the left edge of the
    right box, straight along the row until the last gap, then a curve across that gap."""
    by_key = {box.key: box for box in diagram.boxes}
    ends = []
    for left, right in diagram.links:
        a, b = by_key[left], by_key[right]
        # A leaf's own row band is empty in the deeper columns, so a straight run crosses none.
        bend = max(a.x + a.width, b.x - COLUMN_GAP)
        ends.append((a.x + a.width, a.y + a.height / 2, bend, b.x, b.y + b.height / 2))
    return ends


def _text_rows(box: Box) -> list[tuple[float, float, str]]:
    """(x, baseline, line) for each wrapped line, the block centred in the box."""
    first = box.y + (box.height - len(box.lines) * LINE_HEIGHT) / 2
    baseline = (LINE_HEIGHT + FONT_SIZE) / 2 - 1  # about where the glyphs sit in a line
    return [
        (box.x + PADDING, first + n * LINE_HEIGHT + baseline, line)
        for n, line in enumerate(box.lines)
    ]


def _titles(diagram: Layout) -> list[tuple[float, float, str]]:
    return [
        (_column_x(n + 1), MARGIN + TITLE_FONT_SIZE, t) for n, t in enumerate(diagram.column_titles)
    ]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: str) -> str:
    # Also drops the control characters that XML 1.0 cannot carry at all.
    return escape(_NOT_XML.sub("", text), {'"': "&quot;"})


def _n(value: float) -> str:
    return f"{round(value, 2):g}"


def to_svg(diagram: Layout, *, title: str, description: str) -> str:
    """A standalone, accessible SVG document: no scripts, no external resources."""
    # Ids from the content, so two diagrams inlined in one page do not share ids.
    uid = "dd-" + hashlib.sha256(repr((title, description, diagram)).encode()).hexdigest()[:10]
    w, h = _n(diagram.width), _n(diagram.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-labelledby="{uid}-title {uid}-desc" '
        f'font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}">',
        f'<title id="{uid}-title">{_esc(title)}</title>',
        f'<desc id="{uid}-desc">{_esc(description)}</desc>',
        f'<rect width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    for x, y, text in _titles(diagram):
        out.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{TITLE_FONT_SIZE}" font-weight="bold" '
            f'fill="{TEXT_DARK}">{_esc(text)}</text>'
        )
    for x1, y1, bend, x2, y2 in _curve(diagram):
        mid = _n((bend + x2) / 2)
        out.append(
            f'<path d="M{_n(x1)} {_n(y1)} H{_n(bend)} C{mid} {_n(y1)} {mid} {_n(y2)} '
            f'{_n(x2)} {_n(y2)}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>'
        )
    for box in diagram.boxes:
        style = STYLES[box.kind]
        out.append(
            f'<g data-key="{_esc(box.key)}"><rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.width)}" '
            f'height="{_n(box.height)}" rx="6" fill="{style.fill}" stroke="{style.border}" '
            'stroke-width="2"/>'
        )
        rows = "".join(
            f'<tspan x="{_n(x)}" y="{_n(y)}">{_esc(line)}</tspan>' for x, y, line in _text_rows(box)
        )
        out.append(f'<text fill="{style.text}">{rows}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _bezier(ends: tuple[float, float, float, float], steps: int = 24) -> list[tuple[float, float]]:
    x1, y1, x2, y2 = ends
    mid = (x1 + x2) / 2  # the same control points as the SVG path
    points = []
    for n in range(steps + 1):
        t = n / steps
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        points.append((a * x1 + (b + c) * mid + d * x2, (a + b) * y1 + (c + d) * y2))
    return points


def to_png(diagram: Layout, *, scale: float = 2.0) -> bytes:
    """The same drawing as to_svg, rendered by Pillow with its built-in scalable font."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    size = (max(1, round(diagram.width * scale)), max(1, round(diagram.height * scale)))
    image = Image.new("RGB", size, "#ffffff")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE * scale)
    title_font = ImageFont.load_default(size=TITLE_FONT_SIZE * scale)
    stroke = max(1, round(2 * scale))
    for x, y, text in _titles(diagram):
        # The built-in font has no bold face: a stroke of its own colour thickens it.
        bold = {"stroke_width": max(1, round(scale / 2)), "stroke_fill": TEXT_DARK}
        draw.text((x * scale, y * scale), text, TEXT_DARK, title_font, anchor="ls", **bold)
    for x1, y1, bend, x2, y2 in _curve(diagram):
        route = [(x1, y1), *_bezier((bend, y1, x2, y2))]
        points = [(x * scale, y * scale) for x, y in route]
        draw.line(points, fill=LINE_COLOUR, width=stroke, joint="curve")
    for box in diagram.boxes:
        style = STYLES[box.kind]
        rect = [v * scale for v in (box.x, box.y, box.x + box.width, box.y + box.height)]
        draw.rounded_rectangle(
            rect, radius=6 * scale, fill=style.fill, outline=style.border, width=stroke
        )
        for x, y, line in _text_rows(box):
            draw.text((x * scale, y * scale), line, fill=style.text, font=font, anchor="ls")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

"""The board pack: a room's improvement work as a PDF for its organisation's quality committee.

Plain values in (a Contents, read from the room's rows by bigrooms.services), PDF bytes out;
no Django here. The charts are the room's stored Plotly figures, drawn to PNG by kaleido
driving the system's Chromium (never a browser of its own); the driver diagram is
diagram.py's PNG. fpdf2 writes the PDF: real text throughout, the images tagged with
alternative text, a title, en-GB as its language, and a bookmark for every section.

A figure leaving the room says its n: every chart says how many points it rests on and,
for percentages and rates, how large the denominators were.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF, FontFace, XPos, YPos
from fpdf.enums import MethodReturnValue
from fpdf.prefs import ViewerPreferences

from bigrooms import diagram
from fca.dates import format_date
from measures.charts import ASSURANCE_WORDS, SHORT_PHASE, VARIATION_WORDS, period_words

CHART_WIDTH, CHART_HEIGHT, CHART_SCALE = 1000, 420, 2  # pixels, then twice for print
CHART_TIMEOUT = 60  # seconds for one chart; a browser that hangs fails the pack, not the worker
DIAGRAM_MAX_PIXELS = 12_000_000

# Arial's metrics (Liberation Sans), else DejaVu Sans: both cover far more than Latin-1.
FONTS = (
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)  # fmt: skip
TEXT, BLUE, GREY = (33, 43, 50), (0, 94, 184), (76, 98, 114)  # NHS text, blue, dark grey

Progress = Callable[[int, str], None]

# kaleido, choreographer and the browser's own output say every step at INFO: the worker's
# log keeps only their warnings.
for _name in ("kaleido", "choreographer", "browser_proc"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class Icon:
    """A Making Data Count icon's words, with the icon drawn (SVG) when the chart has one."""

    words: str
    svg: str = ""


@dataclass(frozen=True)
class ChartPart:
    """One measure as the pack shows it: its chart and what the chart says, in words."""

    name: str
    kind: str  # Outcome, Process or Balancing
    about: str  # "Monthly · p-chart · Up is better · Target 95%"
    figure: dict  # the stored Plotly figure; empty when there is nothing to draw
    summary: str
    icons: tuple[Icon, ...]  # each icon, or why there are none
    n_words: str
    markers: tuple[str, ...] = ()
    note: str = ""  # a chart older than its data says so


@dataclass(frozen=True)
class CycleRow:
    idea: str
    ramp: int
    number: int
    starts_on: date
    status: str
    decision: str


@dataclass(frozen=True)
class Learning:
    title: str
    decided: str
    learning: str
    next_step: str


@dataclass(frozen=True)
class Contents:
    room: str
    organisation: str
    pathway: str
    made_on: date
    stage: str
    status: str
    coaches: tuple[str, ...] = ()
    aim: str = ""
    why: str = ""
    specific_aims: tuple[str, ...] = ()
    diagram: diagram.Layout | None = None
    diagram_outline: tuple[tuple[int, str], ...] = ()  # (depth, words), in reading order
    charts: tuple[ChartPart, ...] = ()
    cycles: tuple[CycleRow, ...] = ()
    cycle_counts: str = ""
    learning: tuple[Learning, ...] = ()

    @property
    def title(self) -> str:
        return f"Board pack: {self.room}, {self.organisation}, {format_date(self.made_on)}"


# --- Words for a chart: plain values in, sentences out -------------------------------------


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:,.3g}"


def _period(frequency: str, iso: str) -> str:
    day = date.fromisoformat(iso)
    return format_date(day) if frequency == "weekly" else day.strftime("%b %Y")


def chart_part(
    *,
    name: str,
    kind: str,
    frequency: str,
    about: str,
    result: dict,
    figure: dict,
    denominators: tuple[float, float] | None = None,
    stale_since: date | None = None,
    icon_svgs: dict[str, str] | None = None,
) -> ChartPart:
    """A measure's part of the pack from its stored chart result and figure.

    ``denominators`` is (all periods, the latest period) for percentages and rates;
    ``icon_svgs`` the variation and assurance icons as the app draws them."""
    result = result or {}
    points = result.get("points") or []
    n = result.get("n", len(points))
    if not points:
        n_words = "n = 0: no data yet."
    else:
        n_words = (
            f"n = {n} {frequency} point{'s' if n != 1 else ''}, from "
            f"{_period(frequency, points[0]['period'])} to {_period(frequency, points[-1]['period'])}."
        )
        provisional = len(result.get("provisional") or [])
        if provisional:
            n_words += f" {provisional} provisional, not counted."
        if denominators:
            total, latest = denominators
            n_words += (
                f" The denominators add up to {_number(total)} ({_number(latest)} in "
                f"{period_words(frequency, date.fromisoformat(points[-1]['period']))})."
            )
    markers = tuple(
        f"{format_date(date.fromisoformat(str(a['x'])[:10]))}: {html.unescape(a['hovertext'])}"
        for a in (figure or {}).get("layout", {}).get("annotations", [])
        if a.get("hovertext") and a.get("x")
    )
    note = ""
    if stale_since is not None:
        note = (
            f"New data arrived after this chart was last drawn ({format_date(stale_since)}): "
            "it is being drawn again, so the chart may leave out the latest values."
        )
    return ChartPart(
        name=name,
        kind=kind,
        about=about,
        figure=figure if points else {},
        summary=result.get("summary") or "No data yet.",
        icons=_icons(result, icon_svgs or {}),
        n_words=n_words,
        markers=markers,
        note=note,
    )


def _icons(result: dict, svgs: dict[str, str]) -> tuple[Icon, ...]:
    """What Making Data Count's icons say, or why the chart has none."""
    if result.get("error"):
        return (Icon("No icons: the chart cannot be drawn."),)
    if not result.get("points"):
        return (Icon("No icons yet: no data."),)
    if result.get("chart_type") == "run":
        phases = result.get("phases") or [{}]
        signal = "a signal" if phases[-1].get("signal") else "no signal"
        return (Icon(f"Run chart, {signal}: icons are for control charts (XmR, p, u, c)."),)
    if not result.get("icons_ready") or not result.get("variation_icon"):
        count = result.get("phase_points", 0)
        return (
            Icon(f"No icons yet: they show from {SHORT_PHASE} points in a phase, and this one "
                 f"has {count}."),
        )  # fmt: skip
    icons = [
        Icon(f"Variation: {VARIATION_WORDS[result['variation_icon']]}.", svgs.get("variation", ""))
    ]
    assurance = result.get("assurance_icon")
    if assurance:
        icons.append(Icon(f"Assurance: {ASSURANCE_WORDS[assurance]}.", svgs.get("assurance", "")))
    else:
        icons.append(Icon("Assurance: no icon, as the measure has no target."))
    return tuple(icons)


# --- Charts to PNG, through kaleido and the system's Chromium ------------------------------


class ChartRenderer:
    """One headless Chromium for all of a pack's charts, run by kaleido on a thread of its
    own, so the caller stays synchronous (and may save its progress between charts).

    MathJax is off (it would be fetched from a CDN) and plotly.js comes from the plotly
    package: the browser needs no network."""

    def __init__(self, *, browser_path: str, timeout: float = CHART_TIMEOUT):
        self.browser_path = browser_path
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None

    def __enter__(self) -> ChartRenderer:
        if not Path(self.browser_path).is_file():
            raise BrowserMissing(self.browser_path)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido", daemon=True)
        self._thread.start()
        try:
            self._kaleido = self._call(self._open(), timeout=self.timeout)
        except BaseException:
            self._stop()
            raise
        return self

    async def _open(self):
        import kaleido

        browser = kaleido.Kaleido(path=self.browser_path, n=1, timeout=self.timeout, mathjax=False)
        await browser.open()
        return browser

    def _call(self, coroutine, *, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def png(self, figure: dict) -> bytes:
        opts = {"format": "png", "width": CHART_WIDTH, "height": CHART_HEIGHT,
                "scale": CHART_SCALE}  # fmt: skip
        return self._call(self._kaleido.calc_fig(figure, opts=opts), timeout=self.timeout + 5)

    def __exit__(self, *exc) -> None:
        try:
            if self._kaleido is not None:
                self._call(self._kaleido.close(), timeout=self.timeout)
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()


class BrowserMissing(RuntimeError):
    """No Chromium where the settings say: the charts cannot be drawn."""

    def __init__(self, path: str):
        super().__init__(f"No browser at {path}")
        self.path = path


# --- The whole pack -----------------------------------------------------------------------


def build(contents: Contents, *, browser_path: str, progress: Progress | None = None) -> bytes:
    """The PDF of ``contents``; ``progress(percent, words)`` is told each step."""

    def tell(percent: int, words: str) -> None:
        if progress is not None:
            progress(percent, words)

    tell(10, "Drawing the driver diagram")
    diagram_png = diagram_image(contents.diagram) if contents.diagram else None
    drawn = [n for n, chart in enumerate(contents.charts) if chart.figure]
    pngs: dict[int, bytes] = {}
    if drawn:
        tell(15, "Starting the browser that draws the charts")
        with ChartRenderer(browser_path=browser_path) as renderer:
            for done, n in enumerate(drawn):
                name = contents.charts[n].name
                tell(15 + 75 * done // len(drawn),
                     f"Drawing the chart of {name} ({done + 1} of {len(drawn)})")  # fmt: skip
                pngs[n] = renderer.png(contents.charts[n].figure)
    tell(90, "Writing the PDF")
    return write_pdf(contents, diagram_png=diagram_png, chart_pngs=pngs)


def diagram_image(layout: diagram.Layout) -> bytes:
    """diagram.py's PNG, as sharp as it can be without tying up the worker."""
    scale = min(2.0, (DIAGRAM_MAX_PIXELS / (layout.width * layout.height)) ** 0.5)
    return diagram.to_png(layout, scale=scale)


class _Document(FPDF):
    def __init__(self, contents: Contents):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.contents = contents
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=16)
        self.unicode = _add_fonts(self)
        self.set_title(contents.title)
        self.set_lang("en-GB")
        self.set_subject(f"The improvement work of {contents.room}, for the quality committee")
        self.set_author(contents.organisation)
        self.set_creator("FCA big rooms")
        self.set_keywords("board pack; big room; Flow Coaching Academy; quality improvement")
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)
        self.alias_nb_pages()

    def words(self, text: str) -> str:
        """Text the chosen font can show: with no Unicode font, Latin-1 with look-alikes."""
        if self.unicode:
            return text
        for wide, narrow in _LATIN_1.items():
            text = text.replace(wide, narrow)
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, "", 8)
        self.set_text_color(*GREY)
        c = self.contents
        line = f"{c.room}: board pack of {format_date(c.made_on)} · page {self.page_no()} of {{nb}}"
        self.cell(0, 5, self.words(line), align="C")
        self.set_text_color(*TEXT)

    def heading(self, text: str, level: int = 0) -> None:
        size = (18, 14, 12)[level]
        if self.will_page_break(size * 1.6 + 20):  # never a heading alone at a page's foot
            self.add_page()
        self.start_section(self.words(text), level=level)
        self.set_font(self.body_font, "B", size)
        self.set_text_color(*(BLUE if level < 2 else TEXT))
        self.multi_cell(0, size * 0.5, self.words(text), align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
        self.set_text_color(*TEXT)
        self.ln(2)

    def para(self, text: str, *, size: float = 11, bold: bool = False, indent: float = 0) -> None:
        self.set_font(self.body_font, "B" if bold else "", size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, size * 0.5, self.words(text), align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
        self.ln(1.5)

    def para_height(self, text: str, *, size: float = 11, indent: float = 0) -> float:
        """How tall para() would make ``text``, without writing it."""
        self.set_font(self.body_font, "", size)
        lines = self.multi_cell(self.epw - indent, size * 0.5, self.words(text), dry_run=True,
                                output=MethodReturnValue.LINES)  # fmt: skip
        return len(lines) * size * 0.5 + 1.5

    def icons(self, icons: Sequence[Icon]) -> None:
        """The icons in a row, as on the app's pages, their words in bold beside them."""
        drawn = [icon for icon in icons if icon.svg]
        if not drawn:
            for icon in icons:
                self.para(icon.words, bold=True, size=10)
            return
        top, side, x = self.get_y(), 10, self.l_margin
        for icon in drawn:
            svg = _TITLE.sub("", icon.svg)  # the words are beside it, as text
            self.image(io.BytesIO(svg.encode()), x=x, y=top, w=side, h=side,
                       alt_text=self.words(icon.words))  # fmt: skip
            x += side + 2
        self.set_y(top + (side - 5 * len(icons)) / 2 if len(icons) < 3 else top)
        self.set_font(self.body_font, "B", 10)
        for icon in icons:
            self.set_x(x + 1)
            self.multi_cell(self.epw - (x + 1 - self.l_margin), 5, self.words(icon.words),
                            align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
        self.set_y(max(self.get_y(), top + side) + 2)


_TITLE = re.compile(r"<title>.*?</title>", re.S)
_LATIN_1 = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...",
            "→": "->", "≥": ">=", "≤": "<="}  # fmt: skip


def _add_fonts(pdf: FPDF) -> bool:
    """Liberation Sans or DejaVu Sans where the system has them (Debian's fonts-liberation,
    fonts-dejavu-core); Helvetica, in Latin-1, where it has neither."""
    for regular, bold in FONTS:
        if Path(regular).is_file() and Path(bold).is_file():
            pdf.add_font("body", "", regular)
            pdf.add_font("body", "B", bold)
            pdf.body_font = "body"
            return True
    pdf.body_font = "helvetica"
    return False


def write_pdf(
    contents: Contents, *, diagram_png: bytes | None, chart_pngs: dict[int, bytes]
) -> bytes:
    """Lay the pack out: title page, aim, driver diagram, measures, PDSA cycles, learning."""
    pdf = _Document(contents)
    _title_page(pdf, contents)
    _aim(pdf, contents)
    _diagram(pdf, contents, diagram_png)
    _measures(pdf, contents, chart_pngs)
    _cycles(pdf, contents)
    _learning(pdf, contents)
    return bytes(pdf.output())


SECTIONS = ("Aim", "Driver diagram", "Measures", "PDSA cycles", "Learning")


def _title_page(pdf: _Document, c: Contents) -> None:
    pdf.add_page()
    pdf.set_text_color(*GREY)
    pdf.para(c.organisation, size=12)
    pdf.set_text_color(*BLUE)
    pdf.start_section(pdf.words(f"Board pack: {c.room}"), level=0)
    pdf.set_font(pdf.body_font, "B", 24)
    pdf.multi_cell(0, 11, pdf.words("Board pack"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(pdf.body_font, "B", 18)
    pdf.multi_cell(0, 9, pdf.words(c.room), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*TEXT)
    pdf.ln(6)
    pdf.set_font(pdf.body_font, "", 11)
    facts = [
        ("Organisation", c.organisation),
        ("Care pathway", c.pathway or "No care pathway named"),
        ("Roadmap stage", c.stage),
        ("Status", c.status),
        ("Coaches", ", ".join(c.coaches) or "None named"),
        ("Made on", format_date(c.made_on)),
    ]
    with pdf.table(col_widths=(1.4, 3), text_align="LEFT", first_row_as_headings=False,
                   borders_layout="HORIZONTAL_LINES", line_height=6) as table:  # fmt: skip
        for key, value in facts:
            row = table.row()
            row.cell(pdf.words(key), style=FontFace(emphasis="BOLD"))
            row.cell(pdf.words(value))
    pdf.ln(6)
    pdf.para("What this pack holds", size=13, bold=True)
    pdf.para(
        "The room's aim, its driver diagram, the chart of each outcome, process and balancing "
        "measure with its Making Data Count icons and the PDSA cycles marked on it, a summary "
        "of the PDSA cycles and what the room has learnt from them."
    )
    pdf.para(
        "Each chart says its n: how many points it rests on and, for percentages and rates, "
        "how large the denominators were. Read charts of few points, or of small numbers, "
        "with care."
    )
    pdf.para(
        "It holds no session notes, patient stories or patient-level data: those stay in the room."
    )
    pdf.para("Contents: " + ", ".join(SECTIONS) + ".")


def _aim(pdf: _Document, c: Contents) -> None:
    pdf.add_page()
    pdf.heading("Aim")
    if c.aim:
        pdf.para(c.aim, size=13, bold=True)
        if c.why:
            pdf.para(f"Why it matters: {c.why}")
    else:
        pdf.para("The global aim is not written yet.")
    if c.specific_aims:
        pdf.ln(2)
        pdf.para("How the room will know", size=12, bold=True)
        for aim in c.specific_aims:
            pdf.para(f"• {aim}", indent=3)


def _diagram(pdf: _Document, c: Contents, png: bytes | None) -> None:
    pdf.add_page(orientation="landscape")
    pdf.heading("Driver diagram")
    if png is None or c.diagram is None:
        pdf.para("No drivers or change ideas yet.")
        return
    pdf.para(
        "Read from left to right: the aim, the primary and secondary drivers, and the change "
        "ideas. The same diagram is written out as a list after it.",
        size=10,
    )
    room = pdf.h - pdf.b_margin - pdf.get_y() - 2
    ratio = c.diagram.height / c.diagram.width
    width = min(pdf.epw, room / ratio)
    pdf.image(
        io.BytesIO(png), x=pdf.l_margin + (pdf.epw - width) / 2, w=width, h=width * ratio,
        alt_text=pdf.words(f"Driver diagram of {c.room}: the aim, its drivers and the change "
                           "ideas, written out as a list after the diagram."),
    )  # fmt: skip
    pdf.add_page(orientation="portrait")
    pdf.heading("The driver diagram as a list", level=1)
    for depth, words in c.diagram_outline:
        pdf.para(words, size=10, indent=6 * depth)


def _measures(pdf: _Document, c: Contents, pngs: dict[int, bytes]) -> None:
    pdf.add_page(orientation="portrait")
    pdf.heading("Measures")
    if not c.charts:
        pdf.para("No measures yet.")
        return
    pdf.para(
        "Outcome measures show what matters to patients, process measures what the team "
        "does, balancing measures what might get worse elsewhere. Icons follow NHS England's "
        "Making Data Count; PDSA cycles are marked where they started, never as a cause.",
        size=10,
    )
    kind = None
    chart_height = pdf.epw * CHART_HEIGHT / CHART_WIDTH
    for n, chart in enumerate(c.charts):
        # A measure with its chart is kept whole, with its family's heading if it starts one.
        block = _measure_height(pdf, chart, chart_height if n in pngs else 0)
        if pdf.will_page_break(block + (15 if chart.kind != kind else 0)):
            pdf.add_page()
        if chart.kind != kind:
            kind = chart.kind
            pdf.heading(f"{kind} measures", level=1)
        pdf.heading(chart.name, level=2)
        pdf.para(chart.about, size=10)
        if n in pngs:
            pdf.image(io.BytesIO(pngs[n]), w=pdf.epw, h=chart_height,
                      alt_text=pdf.words(f"Chart of {chart.name}. {chart.summary}"))  # fmt: skip
            pdf.ln(2)
        pdf.icons(chart.icons)
        pdf.para(chart.summary, size=10)
        pdf.para(chart.n_words, size=10)
        if chart.markers:
            pdf.para("Marked on the chart:", size=10)
            for marker in chart.markers:
                pdf.para(f"• {marker}", size=9, indent=3)
        if chart.note:
            pdf.para(chart.note, size=9)
        pdf.ln(4)


def _measure_height(pdf: _Document, chart: ChartPart, chart_height: float) -> float:
    texts = [(chart.about, 10, 0), (chart.summary, 10, 0), (chart.n_words, 10, 0),
             *((f"• {marker}", 9, 3) for marker in chart.markers)]  # fmt: skip
    if chart.markers:
        texts.append(("Marked on the chart:", 10, 0))
    if chart.note:
        texts.append((chart.note, 9, 0))
    words = sum(pdf.para_height(text, size=size, indent=indent) for text, size, indent in texts)
    icons = 12 if any(icon.svg for icon in chart.icons) else 6.5 * len(chart.icons)
    return 10 + (chart_height + 2 if chart_height else 0) + icons + words + 4


def _cycles(pdf: _Document, c: Contents) -> None:
    pdf.add_page(orientation="portrait")
    pdf.heading("PDSA cycles")
    if not c.cycles:
        pdf.para("No PDSA cycles yet.")
        return
    pdf.para(c.cycle_counts)
    pdf.set_font(pdf.body_font, "", 9)
    headings = ("Change idea", "Ramp", "Cycle", "Started", "Status", "Decision")
    with pdf.table(col_widths=(5, 1.2, 1.2, 2.3, 2, 1.8), text_align="LEFT", line_height=5,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(232, 237, 238))) as table:  # fmt: skip
        _row(pdf, table, headings)
        for cycle in c.cycles:
            _row(pdf, table, (cycle.idea, str(cycle.ramp), str(cycle.number),
                              format_date(cycle.starts_on), cycle.status, cycle.decision or "–"))  # fmt: skip


def _row(pdf: _Document, table, cells: Sequence[str]) -> None:
    row = table.row()
    for cell in cells:
        row.cell(pdf.words(cell))


def _learning(pdf: _Document, c: Contents) -> None:
    pdf.ln(6)
    pdf.heading("Learning")
    if not c.learning:
        pdf.para(
            "No learning written yet: a cycle's learning is written when the team studies "
            "its results, and its next step when they decide what to do."
        )
        return
    for item in c.learning:
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.para(item.title, size=11, bold=True)
        if item.decided:
            pdf.para(item.decided, size=10)
        if item.learning:
            pdf.para(f"What was learnt: {item.learning}", size=10)
        if item.next_step:
            pdf.para(f"Next step: {item.next_step}", size=10)
        pdf.ln(2)

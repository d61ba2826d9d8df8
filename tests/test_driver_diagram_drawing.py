"""Laying out and drawing a driver diagram: pure Python, no database."""

import io
import xml.etree.ElementTree as ET

from PIL import Image

from bigrooms.diagram import (
    CHAR_WIDTH,
    FONT_SIZE,
    PADDING,
    STYLES,
    Box,
    Idea,
    Layout,
    Node,
    layout,
    to_png,
    to_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
AIM = "Reduce falls on the stroke ward by 30% by March"


def _classic() -> Layout:
    """2 primaries, 3 secondaries, 2 ideas; the second idea serves two secondaries."""
    nodes = [
        Node(1, None, "Safe mobility"),
        Node(2, None, "Reliable assessment"),
        Node(11, 1, "Walking aids in reach"),
        Node(12, 1, "Toileting rounds"),
        Node(21, 2, "Falls risk on admission"),
    ]
    ideas = [
        Idea(100, "Bay nursing at night", (11,)),
        Idea(200, "Falls huddle each shift", (12, 21)),
    ]
    return layout(AIM, nodes, ideas)


def _by_key(diagram: Layout) -> dict[str, Box]:
    return {box.key: box for box in diagram.boxes}


def _centre(box: Box) -> float:
    return box.y + box.height / 2


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_two_primaries_three_secondaries_and_two_ideas_make_eight_boxes_in_four_columns():
    diagram = _classic()
    kinds = [box.kind for box in diagram.boxes]
    assert kinds.count("aim") == 1
    assert kinds.count("primary") == 2
    assert kinds.count("secondary") == 3
    assert kinds.count("idea") == 2
    columns = {box.key: box.column for box in diagram.boxes}
    assert columns["aim"] == 1
    assert columns["driver-1"] == columns["driver-2"] == 2
    assert columns["driver-11"] == columns["driver-12"] == columns["driver-21"] == 3
    assert columns["idea-100"] == columns["idea-200"] == 4
    assert diagram.column_titles == ("Aim", "Primary drivers", "Secondary drivers", "Change ideas")


def test_it_links_the_aim_to_each_primary_and_each_parent_to_its_children():
    links = set(_classic().links)
    assert {("aim", "driver-1"), ("aim", "driver-2")} <= links
    assert {
        ("driver-1", "driver-11"),
        ("driver-1", "driver-12"),
        ("driver-2", "driver-21"),
    } <= links


def test_it_draws_a_line_from_each_driver_to_each_of_its_change_ideas():
    diagram = _classic()
    assert [link for link in diagram.links if link[1].startswith("idea-")] == [
        ("driver-11", "idea-100"),
        ("driver-12", "idea-200"),
        ("driver-21", "idea-200"),
    ]
    assert len(diagram.links) == 2 + 3 + 3
    svg = ET.fromstring(to_svg(diagram, title="Falls", description="A driver diagram"))
    assert len(svg.findall(f"{SVG}path")) == len(diagram.links)


def test_every_link_runs_from_a_box_on_the_left_to_a_box_on_the_right():
    boxes = _by_key(_classic())
    for left, right in _classic().links:
        assert boxes[left].column < boxes[right].column
        assert boxes[left].x + boxes[left].width < boxes[right].x


def test_a_line_that_skips_a_column_runs_straight_past_the_boxes_there():
    nodes = [Node(1, None, "A"), Node(2, 1, "A leaf"), Node(3, None, "B"), Node(4, 3, "B1")]
    nodes.append(Node(5, 4, "B1 deeper"))
    diagram = layout(AIM, nodes, [Idea(9, "Idea", (2,))])
    svg = ET.fromstring(to_svg(diagram, title="t", description="d"))
    path = svg.findall(f"{SVG}path")[diagram.links.index(("driver-2", "idea-9"))].get("d")
    start, run = path.split(" C")[0].split(" H")
    y = float(start.split()[1])
    deeper = _by_key(diagram)["driver-5"]
    assert float(run) >= deeper.x + deeper.width
    assert not deeper.y <= y <= deeper.y + deeper.height


def test_a_deeper_driver_gets_its_own_column_and_the_ideas_move_right():
    nodes = [Node(1, None, "Flow"), Node(2, 1, "Discharge"), Node(3, 2, "Criteria-led discharge")]
    diagram = layout(AIM, nodes, [Idea(9, "Nurse-led discharge checklist", (3,))])
    boxes = _by_key(diagram)
    assert boxes["driver-3"].column == 4
    assert boxes["driver-3"].kind == "secondary"
    assert boxes["idea-9"].column == 5
    titles = diagram.column_titles
    assert len(titles) == 5
    assert len(set(titles)) == len(titles)
    assert titles[0] == "Aim" and titles[-1] == "Change ideas"
    assert titles[2] == "Secondary drivers"


def test_column_titles_stay_distinct_however_deep_the_drivers_go():
    nodes = [Node(i, i - 1 if i > 1 else None, f"Level {i}") for i in range(1, 7)]
    titles = layout(AIM, nodes, []).column_titles
    assert len(titles) == 1 + 6 + 1
    assert len(set(titles)) == len(titles)


def test_a_parent_is_centred_on_its_children_and_the_aim_on_all_drivers():
    diagram = _classic()
    boxes = _by_key(diagram)
    kids = [boxes["driver-11"], boxes["driver-12"]]
    span = (kids[0].y + kids[-1].y + kids[-1].height) / 2
    assert abs(_centre(boxes["driver-1"]) - span) < 0.01
    drivers = [box for box in diagram.boxes if box.key.startswith("driver-")]
    top, bottom = min(b.y for b in drivers), max(b.y + b.height for b in drivers)
    assert abs(_centre(boxes["aim"]) - (top + bottom) / 2) < 0.01


def test_boxes_never_overlap_within_a_column():
    nodes = [Node(1, None, "Short"), Node(2, None, "word " * 40)]
    nodes += [Node(10 + n, 1, "child " * (n * 7)) for n in range(4)]
    nodes += [Node(20, 2, "only child"), Node(30, 20, "grandchild " * 12)]
    ideas = [Idea(100 + n, "idea " * (n * 9 + 1), (10 + n % 4,)) for n in range(9)]
    diagram = layout("aim " * 60, nodes, ideas)
    for column in {box.column for box in diagram.boxes}:
        stacked = sorted((b for b in diagram.boxes if b.column == column), key=lambda b: b.y)
        for upper, lower in zip(stacked, stacked[1:], strict=False):
            assert upper.y + upper.height <= lower.y, (upper.key, lower.key)


def test_every_box_lies_inside_the_diagram():
    diagram = _classic()
    for box in diagram.boxes:
        assert box.x >= 0 and box.x + box.width <= diagram.width
        assert box.y >= 0 and box.y + box.height <= diagram.height


def test_long_text_wraps_to_the_box_width_without_cutting_words():
    title = "Patients are assessed for falls risk within six hours of arriving on the ward"
    box = _by_key(layout(AIM, [Node(1, None, title)], []))["driver-1"]
    assert len(box.lines) > 1
    assert " ".join(box.lines) == title
    for line in box.lines:
        assert len(line) * CHAR_WIDTH <= box.width - 2 * PADDING
    one_line = _by_key(layout(AIM, [Node(1, None, "Short")], []))["driver-1"]
    assert box.height > one_line.height


def test_a_word_longer_than_a_line_is_broken():
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    box = _by_key(layout(AIM, [], [Idea(1, f"Avoid {word}", ())]))["idea-1"]
    assert len(box.lines) > 1
    assert "".join(box.lines) == f"Avoid {word}"
    assert all(len(line) * CHAR_WIDTH <= box.width - 2 * PADDING for line in box.lines)


def test_change_ideas_follow_the_drivers_they_serve_and_those_without_drivers_come_last():
    nodes = [Node(1, None, "Top"), Node(2, None, "Bottom")]
    ideas = [Idea(7, "Nobody's", ()), Idea(8, "For the bottom", (2,)), Idea(9, "For both", (2, 1))]
    boxes = sorted(
        (b for b in layout(AIM, nodes, ideas).boxes if b.kind == "idea"), key=lambda b: b.y
    )
    assert [b.key for b in boxes] == ["idea-9", "idea-8", "idea-7"]
    gaps = [
        lower.y - (upper.y + upper.height) for upper, lower in zip(boxes, boxes[1:], strict=False)
    ]
    assert abs(gaps[0] - gaps[1]) < 0.01  # spaced evenly


def test_an_idea_with_no_drivers_still_appears_without_lines():
    diagram = layout(AIM, [Node(1, None, "Flow")], [Idea(5, "Orphan idea", (99,))])
    assert _by_key(diagram)["idea-5"].column == 3
    assert all("idea-5" not in link for link in diagram.links)


def test_many_ideas_on_one_driver_do_not_make_the_diagram_absurdly_tall():
    ideas = [Idea(n, f"Idea {n}", (1,)) for n in range(10)]
    diagram = layout(AIM, [Node(1, None, "Flow")], ideas)
    stack = sum(b.height for b in diagram.boxes if b.kind == "idea")
    assert diagram.height < stack + 10 * 16 + 200
    boxes = _by_key(diagram)
    ideas_top = min(b.y for b in diagram.boxes if b.kind == "idea")
    ideas_bottom = max(b.y + b.height for b in diagram.boxes if b.kind == "idea")
    assert abs(_centre(boxes["driver-1"]) - (ideas_top + ideas_bottom) / 2) < 1


def test_nodes_whose_parent_is_unknown_are_primary_drivers():
    diagram = layout(AIM, [Node(1, 42, "Stray"), Node(2, 1, "Its child")], [])
    assert _by_key(diagram)["driver-1"].kind == "primary"
    assert ("aim", "driver-1") in diagram.links
    assert _by_key(diagram)["driver-2"].column == 3


def test_a_cycle_in_the_nodes_still_draws_every_node_once():
    nodes = [Node(1, 2, "A"), Node(2, 1, "B"), Node(3, 3, "Its own parent")]
    diagram = layout(AIM, nodes, [Idea(1, "Idea", (1, 2, 3))])
    keys = [box.key for box in diagram.boxes]
    assert sorted(keys) == ["aim", "driver-1", "driver-2", "driver-3", "idea-1"]


def test_the_empty_diagram_still_shows_the_aim():
    diagram = layout(AIM, [], [])
    assert [box.key for box in diagram.boxes] == ["aim"]
    assert diagram.links == ()
    assert diagram.width > 0 and diagram.height > 0
    assert diagram.column_titles[0] == "Aim"
    ET.fromstring(to_svg(diagram, title="Empty", description="Only an aim so far"))
    assert Image.open(io.BytesIO(to_png(diagram))).size[0] > 0


def test_the_svg_is_a_standalone_accessible_document():
    diagram = _classic()
    text = to_svg(diagram, title="Falls driver diagram", description="Aim, drivers and ideas")
    svg = ET.fromstring(text)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("viewBox") and svg.get("width") and svg.get("height")
    assert "Arial, Helvetica, sans-serif" in svg.get("font-family")
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id
    assert svg.find(f"{SVG}title").text == "Falls driver diagram"
    assert svg.find(f"{SVG}desc").get("id") == desc_id
    assert svg.find(f"{SVG}desc").text == "Aim, drivers and ideas"
    keys = [g.get("data-key") for g in svg.iter(f"{SVG}g")]
    assert keys == [box.key for box in diagram.boxes]
    assert "<script" not in text and "href" not in text and "url(" not in text
    sizes = [int(e.get("font-size")) for e in svg.iter() if e.get("font-size")]
    assert sizes and min(sizes) >= FONT_SIZE >= 16
    assert any(e.get("font-weight") == "bold" for e in svg.iter(f"{SVG}text"))


def test_the_svg_escapes_every_piece_of_user_text():
    nasty = '<script>alert("x")</script> & co'
    diagram = layout(nasty, [Node(1, None, nasty)], [Idea(1, nasty, (1,))])
    text = to_svg(diagram, title=nasty, description=nasty + "\x00\x1b")
    assert "<script>" not in text
    svg = ET.fromstring(text)
    assert svg.find(f"{SVG}title").text == nasty
    assert svg.find(f"{SVG}desc").text == nasty
    drawn = [" ".join(t.itertext()) for g in svg.iter(f"{SVG}g") for t in g.iter(f"{SVG}text")]
    assert all("&" in words and "<script>alert" in words.replace(" ", "") for words in drawn)


def test_the_png_is_a_png_of_the_scaled_size():
    diagram = _classic()
    data = to_png(diagram, scale=2.0)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.size == (round(diagram.width * 2), round(diagram.height * 2))
    assert image.getpixel((1, 1)) == (255, 255, 255)
    aim = _by_key(diagram)["aim"]
    inside = (round((aim.x + 4) * 2), round((aim.y + 4) * 2))
    assert image.getpixel(inside) == (0x00, 0x5E, 0xB8)
    small = Image.open(io.BytesIO(to_png(diagram, scale=1)))
    assert small.size == (round(diagram.width), round(diagram.height))


def test_every_text_colour_has_strong_contrast_on_its_fill():
    assert set(STYLES) == {"aim", "primary", "secondary", "idea"}
    for kind, style in STYLES.items():
        assert _contrast(style.text, style.fill) >= 4.5, kind
    assert _contrast(STYLES["aim"].fill, "#ffffff") >= 4.5

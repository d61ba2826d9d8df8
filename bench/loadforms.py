"""Forms as the load mix fills them in: parsed from the page and posted back as a browser
would. Shared by locustfile.py and page_cpu.py; free of Locust, whose import patches
threads with gevent."""

import random
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser

NOTES = [
    "Reviewed the charts: the new huddle time is holding.",
    "Agreed to test the checklist on a second ward next week.",
    "Data for last week is late: the warehouse extract failed on Monday.",
    "The night team asked to join the board round; we will try it.",
]
STORY = "A carer told us nobody explained why the discharge was delayed until the evening."
ACTIONS = [
    "Ask pharmacy for the turnaround figures",
    "Share the breach reasons with the site team",
    "Invite the discharge coordinator to the next session",
]


class FormParser(HTMLParser):
    """The fields of every form on a page: what a browser would submit, untouched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": [], "choices": {}})
        elif not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in {"radio", "checkbox"}:
                form["choices"].setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form["fields"].append((name, a.get("value", "on")))
            elif kind not in {"submit", "button", "file", "image", "reset"}:
                form["fields"].append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
            form["choices"][name] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            form["choices"][self._select].append(value)
            if "selected" in a:
                form["fields"].append((self._select, value))
        elif tag == "textarea" and name:
            self._textarea = name
            form["fields"].append((name, ""))

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, text = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_on(html: str, action: str) -> dict:
    """The form posting to ``action`` (a path), as a browser would submit it unchanged."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        if unescape(form["action"]) in {action, ""} and any(
            name == "csrfmiddlewaretoken" for name, _ in form["fields"]
        ):
            return form
    raise ValueError(f"no form posting to {action}")


def session_fields(html: str, action: str, day: date) -> list[tuple[str, str]]:
    """The session form as a coach fills it in for ``day``: who came, last week's actions
    moved on, notes on each agenda item, a new action, the round of scores."""
    form = form_on(html, action)
    fields = dict(form["fields"])
    choices = form["choices"]
    fields["held_on"] = day.strftime("%d/%m/%Y")
    for name in choices:
        if name.startswith("attended_"):
            fields[name] = random.choices(["in_room", "online", "absent"], [6, 2, 2])[0]
        elif re.fullmatch(r"action_\d+", name):
            fields[name] = random.choices(["open", "done", "dropped"], [5, 4, 1])[0]
    for name in list(fields):
        if re.fullmatch(r"agenda_\d+_notes", name):
            fields[name] = random.choice(NOTES)
        elif re.fullmatch(r"agenda_\d+_minutes", name):
            fields[name] = str(random.randint(5, 20))
    owners = [v for v in choices.get("new_1_owner", []) if v.isdigit()]
    fields.update(
        guests=str(random.randint(0, 3)),
        notes=random.choice(NOTES),
        patient_story=STORY,
        scores=" ".join(str(random.randint(5, 10)) for _ in range(random.randint(3, 8))),
        new_1_what=random.choice(ACTIONS),
        new_1_owner=random.choice(owners) if owners else "",
    )
    return list(fields.items())

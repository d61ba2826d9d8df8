"""The API reference page's content, built from the OpenAPI schema drf-spectacular generates.

The schema is generated once a process (it changes only when the code does); turning it
into sections, operations and field rows is plain dictionary work, so the page and the
schema cannot disagree.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from drf_spectacular.generators import SchemaGenerator

from fca.tokens import PeopleOnly

# How the tags read as headings, in the order a newcomer meets them.
TAG_TITLES = {
    "rooms": "Big rooms",
    "sessions": "Sessions",
    "actions": "Actions",
    "pdsas": "PDSA cycles",
    "measures": "Measures and data points",
    "pathways": "Care pathways and episode files",
    "dashboard": "Dashboards",
    "library": "Learning library",
    "audit": "Audit log",
    "academy": "The academy",
}
METHOD_ORDER = ("get", "post", "put", "patch", "delete")
STATUS_WORDS = {
    "200": "It worked",
    "201": "Created",
    "202": "Accepted: the work goes on in the background",
    "204": "Done, with nothing to send back",
}
# drf-spectacular writes an enum's choices into the description as "* `open` - Open" lines;
# the type column already lists them.
ENUM_LINE = re.compile(r"^\* `[^`]*` - .*$", re.MULTILINE)
NESTING_LIMIT = 5


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    description: str
    depth: int = 0


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Response:
    status: str
    description: str
    fields: list[Field]

    @property
    def is_error(self) -> bool:
        return self.status >= "400"


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    description: list[str]
    who: str
    feed_tokens: bool
    parameters: list[Parameter]
    body_type: str
    body_fields: list[Field]
    responses: list[Response]
    curl: str

    @property
    def anchor(self) -> str:
        return f"op-{self.id}"

    @property
    def successes(self) -> list[Response]:
        return [r for r in self.responses if not r.is_error]

    @property
    def errors(self) -> list[Response]:
        return [r for r in self.responses if r.is_error]


@dataclass(frozen=True)
class Section:
    tag: str
    title: str
    operations: list[Operation] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"tag-{self.tag}"


@cache
def openapi_schema() -> dict:
    """The schema /api/schema/ serves, generated as its view does, once a process."""
    return _generate()[0]


@cache
def feed_token_operations() -> frozenset[str]:
    """The operation ids a data feed token may call: those whose view drops PeopleOnly."""
    return _generate()[1]


@cache
def _generate() -> tuple[dict, frozenset[str]]:
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    feed = frozenset(
        callback.cls.__name__
        for _, _, _, callback in generator.endpoints
        if PeopleOnly not in callback.cls.permission_classes
    )
    return schema, feed


def build_reference(schema: dict, *, base_url: str, feed_ops: frozenset[str]) -> list[Section]:
    """The schema's operations grouped by tag, each with its parameters, body, responses
    and a curl example against base_url."""
    sections: dict[str, Section] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, spec in methods.items():
            if method not in METHOD_ORDER:
                continue
            tag = (spec.get("tags") or ["other"])[0]
            section = sections.setdefault(
                tag, Section(tag=tag, title=TAG_TITLES.get(tag, tag.replace("_", " ").capitalize()))
            )
            section.operations.append(
                _operation(schema, path, method, spec, base_url=base_url, feed_ops=feed_ops)
            )
    order = list(TAG_TITLES)
    ordered = sorted(
        sections.values(),
        key=lambda s: (order.index(s.tag) if s.tag in order else len(order), s.title),
    )
    for section in ordered:
        section.operations.sort(key=lambda o: (o.path, METHOD_ORDER.index(o.method.lower())))
    return ordered


def _operation(schema, path, method, spec, *, base_url, feed_ops) -> Operation:
    summary = spec.get("summary") or spec.get("operationId", "")
    paragraphs = _paragraphs(spec.get("description", ""))
    parameters = [
        Parameter(
            name=p["name"],
            location=p["in"],
            type=_type(schema, p.get("schema", {})),
            required=bool(p.get("required")),
            description=_describe(p.get("schema", {}), p.get("description", "")),
        )
        for p in spec.get("parameters", [])
        if p.get("in") in ("path", "query")
    ]
    body_type, body_schema = _body(spec)
    body_fields = _fields(schema, body_schema) if body_schema else []
    responses = [
        Response(
            status=status,
            description=_prose(answer.get("description") or STATUS_WORDS.get(status, "")),
            fields=_fields(schema, _json_schema(answer)),
        )
        for status, answer in sorted(spec.get("responses", {}).items())
    ]
    return Operation(
        id=spec.get("operationId", f"{method}-{path}"),
        method=method.upper(),
        path=path,
        summary=summary,
        description=[_prose(p) for p in paragraphs],
        who=_who(summary, paragraphs),
        feed_tokens=spec.get("operationId") in feed_ops,
        parameters=parameters,
        body_type=body_type,
        body_fields=body_fields,
        responses=responses,
        curl=_curl(schema, path, method, spec, body_type, body_schema, base_url=base_url),
    )


def _prose(text: str) -> SafeString:
    """Schema text as HTML: escaped, with `backticked` words as code, as the schema's
    Markdown means them."""
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text.strip())))


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def _who(summary: str, description: list[str]) -> str:
    """Who may call it, when the schema says: a sentence starting "For …" in the
    description, or the words in brackets closing the summary when they are its only
    brackets (with more, each says who may change which part, and the summary says it)."""
    for paragraph in description:
        for sentence in re.split(r"(?<=\.)\s+", paragraph):
            if sentence.startswith("For "):
                return sentence[len("For ") :].rstrip(".")
    brackets = re.findall(r"\(([^()]+)\)", summary)
    return brackets[0] if len(brackets) == 1 and summary.rstrip().endswith(")") else ""


def _body(spec: dict) -> tuple[str, dict]:
    content = spec.get("requestBody", {}).get("content", {})
    for content_type in ("application/json", "multipart/form-data"):
        if content_type in content:
            return content_type, content[content_type].get("schema", {})
    for content_type, media in content.items():
        return content_type, media.get("schema", {})
    return "", {}


def _json_schema(answer: dict) -> dict:
    return answer.get("content", {}).get("application/json", {}).get("schema", {})


def _resolve(schema: dict, node: dict) -> dict:
    """Follow $ref, and a single allOf (how drf-spectacular wraps an enum with a default)."""
    seen = 0
    while seen < NESTING_LIMIT:
        seen += 1
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            target = schema.get("components", {}).get("schemas", {}).get(name, {})
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        elif len(node.get("allOf", [])) == 1:
            inner = node["allOf"][0]
            node = {**_resolve(schema, inner), **{k: v for k, v in node.items() if k != "allOf"}}
        else:
            break
    return node


def _choices(schema: dict, node: dict) -> list:
    """An enum's values, including those offered through oneOf (a choice or blank/null)."""
    node = _resolve(schema, node)
    values = list(node.get("enum", []))
    for option in node.get("oneOf", []):
        values += _choices(schema, option)
    return values


def _type(schema: dict, node: dict) -> str:
    """A schema's type in words: "integer", "date (YYYY-MM-DD)", "list of integer"."""
    node = _resolve(schema, node)
    choices = _choices(schema, node)
    nullable = node.get("nullable") or None in choices
    if choices:
        shown = ", ".join(json.dumps(c) for c in choices if c not in (None, ""))
        words = f"one of {shown}" if shown else "null"
        if "" in choices:
            words += ", or empty text"
    else:
        words = _base_type(schema, node)
    return f"{words}, or null" if nullable and words != "null" else words


def _base_type(schema: dict, node: dict) -> str:
    kind, fmt = node.get("type"), node.get("format")
    if kind == "array":
        return f"list of {_type(schema, node.get('items', {})) or 'any value'}"
    if kind == "object" or "properties" in node:
        return "object"
    if kind == "string":
        return {
            "date": "date (YYYY-MM-DD)",
            "date-time": "date and time (ISO 8601)",
            "uri": "URL",
            "binary": "file",
            "email": "email address",
        }.get(fmt, "text")
    if kind == "boolean":
        return "true or false"
    if kind in ("integer", "number"):
        return kind
    return "any value"


def _describe(node: dict, text: str = "") -> str:
    """The description, without the enum bullet lines, and the limits the schema sets."""
    words = ENUM_LINE.sub("", text or node.get("description", "")).strip()
    words = re.sub(r"\s+", " ", words)
    limits = []
    if "minimum" in node and "maximum" in node and node["maximum"] < 2**31:
        limits.append(f"From {node['minimum']} to {node['maximum']}.")
    elif "minimum" in node:
        limits.append(f"At least {node['minimum']}.")
    elif "maximum" in node and node["maximum"] < 2**31:
        limits.append(f"At most {node['maximum']}.")
    if "maxLength" in node:
        limits.append(f"Up to {node['maxLength']} characters.")
    if "maxItems" in node:
        limits.append(f"Up to {node['maxItems']} items.")
    if "default" in node and node["default"] not in ("", None):
        limits.append(f"Default {json.dumps(node['default'])}.")
    if node.get("readOnly"):
        limits.append("Set by the server.")
    sentence = words if not words or words.endswith((".", "?", "!")) else f"{words}."
    return _prose(" ".join([sentence, *limits] if sentence else limits))


def _fields(schema: dict, node: dict, *, prefix: str = "", depth: int = 0) -> list[Field]:
    """An object's properties as rows; nested objects and lists of objects follow their
    parent as dotted names (attendance[].user_id), so one table holds the whole shape."""
    node = _resolve(schema, node)
    if node.get("type") == "array" and not prefix:
        return _fields(schema, node.get("items", {}), prefix="[]", depth=depth)
    required = set(node.get("required", []))
    rows = []
    for name, child in node.get("properties", {}).items():
        resolved = _resolve(schema, child)
        full = f"{prefix}.{name}" if prefix else name
        rows.append(
            Field(
                name=full,
                type=_type(schema, child),
                required=name in required,
                description=_describe({**resolved, **child}),
                depth=depth,
            )
        )
        if depth + 1 >= NESTING_LIMIT:
            continue
        if resolved.get("type") == "object" or "properties" in resolved:
            rows += _fields(schema, resolved, prefix=full, depth=depth + 1)
        elif resolved.get("type") == "array":
            items = _resolve(schema, resolved.get("items", {}))
            if "properties" in items:
                rows += _fields(schema, items, prefix=f"{full}[]", depth=depth + 1)
    return rows


def _example(schema: dict, node: dict, depth: int = 0):
    """A small example value: the required properties and the first optional one, first
    choices, fixed dates."""
    node = _resolve(schema, node)
    choices = [c for c in _choices(schema, node) if c not in (None, "")]
    if choices:
        return choices[0]
    kind, fmt = node.get("type"), node.get("format")
    if kind == "object" or "properties" in node:
        if depth >= NESTING_LIMIT:
            return {}
        properties = node.get("properties", {})
        required = [n for n in properties if n in node.get("required", [])]
        optional = [
            n for n in properties if n not in required and not _read_only(schema, properties[n])
        ]
        wanted = required + optional[:1]
        return {n: _example(schema, properties[n], depth + 1) for n in wanted}
    if kind == "array":
        return [_example(schema, node.get("items", {}), depth + 1)]
    if kind == "string":
        return {"date": "2026-11-24", "date-time": "2026-11-24T09:00:00Z"}.get(fmt, "text")
    if kind == "boolean":
        return True
    if kind == "number":
        return 31.5
    if kind == "integer":
        return max(node.get("minimum", 1), 1)
    return None


def _read_only(schema: dict, node: dict) -> bool:
    return bool(node.get("readOnly") or _resolve(schema, node).get("readOnly"))


def _curl(schema, path, method, spec, body_type, body_schema, *, base_url) -> str:
    url = re.sub(r"\{[^}]+\}", "1", path)
    lines = ["curl", '  -H "Authorization: Bearer $TOKEN"']
    if body_type == "multipart/form-data":
        body = _resolve(schema, body_schema)
        for name, child in body.get("properties", {}).items():
            if _resolve(schema, child).get("format") == "binary":
                lines.append(f"  -F {name}=@episodes.csv")
    elif body_type:
        example = json.dumps(_example(schema, body_schema), ensure_ascii=False)
        lines += ['  -H "Content-Type: application/json"', f"  -d '{example}'"]
    elif method != "get":
        lines.append(f"  -X {method.upper()}")
    lines.append(f"  {base_url}{url}")
    return " \\\n".join(lines)

"""Rendered fragments kept by what they show.

The pages a trust reads most (the organisation dashboard, the measures summary, a room's
measures) repeat the same markup for rows whose data rarely changes between two visits.
Each such fragment is kept in the cache under a key made of every value it reads: the
row's own fields, a model's every column, a chart by its version and when it was stored.
Changed data makes a new key, so a kept fragment is never stale and nothing has to be
invalidated; an old key ages out (a day unread, or sooner when the cache is full: its
limit on entries is in settings). The template says what the fragment reads:

    {% load cache fragments %}
    {% cache 86400 dashboard_row row|fingerprint %}…{% endcache %}
"""

from dataclasses import fields, is_dataclass
from datetime import date, datetime

from django.db.models import Model


def fingerprint(*parts) -> str:
    """Every value ``parts`` hold, as one string: a model as its label, every column it
    has loaded and the related rows loaded with it (select_related); a dataclass as its
    repr with the models among its fields; containers item by item. (A dataclass holding
    models inside a list would be known by their names only: keep models out of those.)"""
    return repr(tuple(_plain(part, set()) for part in parts))


def _plain(value, seen: set[int]):
    if isinstance(value, Model):
        if id(value) in seen:  # a related row's cache points back (measure ↔ chart)
            return value._meta.label
        seen.add(id(value))
        loaded = value.__dict__  # never a deferred column: reading one would be a query
        related = sorted(value._state.fields_cache.items())
        return (
            value._meta.label,
            # A JSON column holds only plain values: its repr is complete, and quick.
            tuple(repr(loaded.get(f.attname, _DEFERRED)) for f in value._meta.concrete_fields),
            tuple((name, _plain(row, seen)) for name, row in related),
        )
    if is_dataclass(value) and not isinstance(value, type):
        # Its repr shows every field, but a model there only by name: those are added.
        parts = (getattr(value, f.name) for f in fields(value))
        return (repr(value), tuple(_plain(v, seen) for v in parts if isinstance(v, Model)))
    if isinstance(value, dict):
        return tuple((key, _plain(item, seen)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(_plain(item, seen) for item in value)
    return value if isinstance(value, _PLAIN) else repr(value)


_PLAIN = (str, int, float, bool, date, datetime, type(None))
_DEFERRED = "(deferred)"

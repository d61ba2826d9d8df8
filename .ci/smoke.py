#!/usr/bin/env python3
"""Smoke-test a running production server: health, sign-in, one value saved, chart redrawn.

    python .ci/smoke.py BASE_URL EMAIL PASSWORD MEASURE_ID

For example ``python .ci/smoke.py http://127.0.0.1:8765 coach@example.nhs.uk secret 1``.

The server runs with FCA_ENVIRONMENT=production, as behind the reverse proxy that
terminates TLS: every request says ``X-Forwarded-Proto: https`` (else SECURE_SSL_REDIRECT
answers 301), and the Origin and Referer headers name https://<host> for the CSRF check.
Production cookies are Secure, so this script keeps the cookies itself (from Set-Cookie,
sent back in a Cookie header) instead of http.cookiejar, which would withhold them over
plain http. Redirects are never followed: each step checks the 3xx it expects.

Standard library only. Exits 0 when every step passes, 1 otherwise.
"""

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from html import unescape

POLL_SECONDS = 60
TIMEOUT = 15


class SmokeFailure(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand back the 3xx response itself, so the caller sees the status and Location."""

    def http_error_302(self, req, fp, code, msg, headers):
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "") or ""


class Client:
    """HTTP client with a hand-kept cookie store and the proxy's headers on every request."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise SmokeFailure(f"Not a base URL: {base_url!r}")
        self.host = parts.netloc  # what the Host header carries, port included
        self.https_origin = f"https://{self.host}"
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirect())

    def _store_cookies(self, headers) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            first, _, attributes = header.partition(";")
            name, sep, value = first.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not name:
                continue
            attrs = {}
            for attribute in attributes.split(";"):
                key, _, val = attribute.partition("=")
                attrs[key.strip().lower()] = val.strip()
            expired = attrs.get("max-age") == "0" or "1970" in attrs.get("expires", "")
            if expired or value in {"", '""'}:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def request(self, method: str, path: str, data: dict | None = None, headers=None):
        url = self.base_url + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("User-Agent", "fca-prod-smoke/1")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            request.add_header(
                "Cookie", "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            )
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            raw = self.opener.open(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as error:  # 4xx and 5xx: still a response to check
            raw = error
        with raw:
            response = Response(
                raw.status if hasattr(raw, "status") else raw.code, raw.headers, raw.read()
            )
        self._store_cookies(response.headers)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict, referer_path: str) -> Response:
        return self.request(
            "POST",
            path,
            data,
            headers={
                "Origin": self.https_origin,
                "Referer": self.https_origin + referer_path,
            },
        )


def excerpt(text: str, limit: int = 3000) -> str:
    main = re.search(r"<main\b.*?</main>", text, re.S)
    chunk = main.group(0) if main else text
    return chunk[:limit]


def expect(condition: bool, message: str, response: Response | None = None) -> None:
    if not condition:
        if response is not None:
            message += f"\n  status {response.status}"
            if response.location:
                message += f", Location {response.location}"
            message += "\n--- page excerpt ---\n" + excerpt(response.text) + "\n---"
        raise SmokeFailure(message)


def form_csrf_token(html: str, action: str | None = None) -> str:
    """The csrfmiddlewaretoken of the form posting to ``action`` (or of the first form)."""
    forms = re.findall(r"<form\b([^>]*)>(.*?)</form>", html, re.S | re.I)
    for attrs, inner in forms:
        if action is not None:
            found = re.search(r"""\baction\s*=\s*["']([^"']*)["']""", attrs, re.I)
            if not found or unescape(found.group(1)) != action:
                continue
        token = re.search(
            r"""name=["']csrfmiddlewaretoken["'][^>]*?value=["']([^"']+)["']"""
            r"""|value=["']([^"']+)["'][^>]*?name=["']csrfmiddlewaretoken["']""",
            inner,
        )
        if token:
            return token.group(1) or token.group(2)
    raise SmokeFailure(f"No form with a CSRF token{f' posting to {action}' if action else ''}")


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def table_rows(html: str) -> list[str]:
    """The text of each row of the page's data table."""
    table = re.search(
        r"""<table\b[^>]*data-testid=["']data-table["'][^>]*>(.*?)</table>""", html, re.S
    )
    if not table:
        return []
    return [text_of(row) for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", table.group(1), re.S)]


def chart_summary(html: str) -> str | None:
    found = re.search(
        r"""<(\w+)\b[^>]*data-testid=["']chart-summary["'][^>]*>(.*?)</\1>""", html, re.S
    )
    return text_of(found.group(2)) if found else None


def run(base_url: str, email: str, password: str, measure_id: str) -> None:
    client = Client(base_url)

    # (a) Health: the app answers and reaches its database.
    response = client.get("/health/")
    expect(response.status == 200, "GET /health/ did not answer 200", response)
    try:
        health = json.loads(response.text)
    except ValueError:
        health = None
    expect(health == {"status": "ok"}, f"GET /health/ answered {response.text!r}", response)
    print(f"ok  GET /health/ -> 200 {health}")

    # (b) The sign-in page.
    sign_in = "/account/sign-in/"
    response = client.get(sign_in)
    expect(response.status == 200, f"GET {sign_in} did not answer 200", response)
    expect("Sign in" in response.text, f"GET {sign_in} does not say 'Sign in'", response)
    expect("csrftoken" in client.cookies, f"GET {sign_in} set no csrftoken cookie", response)
    print(f"ok  GET {sign_in} -> 200, 'Sign in' on the page, csrftoken cookie set")

    # (c) Sign in.
    token = form_csrf_token(response.text)
    response = client.post_form(
        sign_in,
        {"csrfmiddlewaretoken": token, "next": "", "username": email, "password": password},
        referer_path=sign_in,
    )
    expect(
        response.status == 302 and response.location == "/",
        f"POST {sign_in} did not redirect to /",
        response,
    )
    expect("sessionid" in client.cookies, f"POST {sign_in} set no session cookie", response)
    print(f"ok  POST {sign_in} -> 302 Location / (signed in as {email})")

    # (d) Add one value through the "Add a value" form.
    detail = f"/measures/{measure_id}/"
    add = f"/measures/{measure_id}/points/add/"
    response = client.get(detail)
    expect(response.status == 200, f"GET {detail} did not answer 200", response)
    token = form_csrf_token(response.text, action=add)
    day = date.today()
    value = 40 + (int(time.time()) % 50) + 0.25  # e.g. 57.25: shows as typed in the table
    value_text = f"{value:g}"
    month_text = day.strftime("%B %Y")  # the chart summary names the month: "March 2026"
    table_month = day.strftime("%b %Y")  # the data table lists it as "Mar 2026"
    response = client.post_form(
        add,
        {"csrfmiddlewaretoken": token, "day": day.strftime("%d/%m/%Y"), "value": value_text},
        referer_path=detail,
    )
    expect(
        response.status == 302 and response.location == detail,
        f"POST {add} did not redirect to {detail}",
        response,
    )
    print(f"ok  POST {add} day={day:%d/%m/%Y} value={value_text} -> 302 Location {detail}")

    # (e) The worker recomputes the chart: poll the page until it shows the new value.
    want_row = f"{table_month} {value_text}"

    def new_value_row(rows: list[str]) -> str | None:
        """The table row for the new value: its month, then the value (compared as a
        number, whatever the formatting)."""
        for row in rows:
            if not row.startswith(table_month + " "):
                continue
            words = row[len(table_month) :].split()
            try:
                if words and float(words[0].replace(",", "")) == value:
                    return row
            except ValueError:
                continue
        return None

    deadline = time.monotonic() + POLL_SECONDS
    polls = 0
    while True:
        polls += 1
        response = client.get(detail)
        expect(response.status == 200, f"GET {detail} did not answer 200", response)
        rows = table_rows(response.text)
        row = new_value_row(rows)
        has_row = row is not None
        recalculating = 'data-testid="recalculating"' in response.text
        summary = chart_summary(response.text)
        # The summary names the latest period: the new value's.
        has_summary = summary is not None and month_text in summary
        if has_row and not recalculating and has_summary:
            break
        if time.monotonic() >= deadline:
            expect(
                False,
                f"After {POLL_SECONDS} s ({polls} polls) the chart is not current: "
                f"row {want_row!r} in the table: {has_row} (rows: {rows[:4]!r}); "
                f'data-testid="recalculating" on the page: {recalculating}; '
                f"chart summary: {summary!r}",
                response,
            )
        time.sleep(1)
    print(f"ok  GET {detail} after {polls} poll(s):")
    print(f"      data table has the row {row!r} (posted {want_row!r})")
    print('      no data-testid="recalculating" on the page')
    print(f"      chart summary: {summary!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run(*argv[1:])
    except SmokeFailure as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"FAIL could not reach {argv[1]}: {error}", file=sys.stderr)
        return 1
    print("Production smoke test passed: the live worker recomputed the chart.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""API rate limits: a number of requests a minute for each token (or signed-in person),
reads and writes apart, counted in the database so every gunicorn process shares them."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from fca.models import ApiRateWindow
from fca.throttling import WINDOW_SECONDS, count_request, delete_old_windows
from fca.tokens import create_token


def _api(user) -> Client:
    _, text = create_token(user=user, name="Script", kind="personal")
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")


def _early_in_a_minute() -> None:
    """Start where the rest of the test fits in the same one-minute window."""
    into = time.time() % WINDOW_SECONDS
    if into > WINDOW_SECONDS - 15:
        time.sleep(WINDOW_SECONDS - into + 0.1)


@pytest.fixture
def limits(settings):
    settings.FCA_API_READS_PER_MINUTE = 3
    settings.FCA_API_WRITES_PER_MINUTE = 2
    _early_in_a_minute()


def test_a_token_over_its_limit_gets_429_with_retry_after(cast, limits):
    client = _api(cast.bob)
    url = reverse("api_room_list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= WINDOW_SECONDS + 1
    assert "throttled" in refused.json()["detail"]


def test_writes_are_counted_apart_from_reads_and_each_token_apart(cast, limits):
    alice = _api(cast.alice)
    create = reverse("api_action_create", args=[cast.room.pk])
    body = {"what": "Audit the lists", "owner_id": cast.dana.pk}
    codes = [alice.post(create, body, content_type="application/json").status_code for _ in "abc"]
    assert codes == [201, 201, 429]
    assert cast.room.actions.count() == 2  # the refused write saved nothing
    assert alice.get(reverse("api_room_list")).status_code == 200
    assert _api(cast.alice).post(create, body, content_type="application/json").status_code == 201


def test_a_signed_in_person_is_counted_as_themselves(cast, limits, client):
    client.force_login(cast.bob)
    url = reverse("api_room_list")
    assert [client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = Client()
    other.force_login(cast.dana)
    assert other.get(url).status_code == 200


def test_a_caller_without_credentials_is_refused_before_it_is_counted(db, limits):
    assert Client().get(reverse("api_room_list")).status_code == 401
    assert not ApiRateWindow.objects.exists()


def test_a_new_minute_starts_a_new_count_and_the_job_clears_the_old(db):
    start = 1_000_000 * WINDOW_SECONDS
    assert count_request("token:1:read", now=start)[0] == 1
    assert count_request("token:1:read", now=start + 30) == (2, 31)
    assert count_request("token:1:read", now=start + WINDOW_SECONDS)[0] == 1
    assert delete_old_windows(now=start + WINDOW_SECONDS + 5) == 1
    assert ApiRateWindow.objects.get().window == 1_000_001


@pytest.mark.postgres_only
def test_concurrent_requests_from_many_connections_each_count_once(transactional_db):
    """As gunicorn's processes do: each thread has its own database connection, and every
    request gets its own number, none lost or repeated."""
    now = time.time()
    counts, threads = [], []

    def requests():
        try:
            for _ in range(25):
                counts.append(count_request("token:7:write", now=now)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=requests) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 201))
    assert ApiRateWindow.objects.get(key="token:7:write").count == 200

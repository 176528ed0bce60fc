"""Login throttling: attempts are counted atomically (parallel guesses cannot slip under the limit),
per username and per client address, and the address is the real client's behind trusted proxies."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher

from engine import accounts
from tests.conftest import PASSWORD

WRONG = {"username": "eva", "password": "wrong password!"}


@pytest.fixture(autouse=True)
def _cheap_guesses(monkeypatch):
    # Unknown usernames are checked against a production-strength dummy hash (slow on purpose);
    # a smaller address limit keeps the number of guesses per test small. The logic is the same.
    monkeypatch.setattr(accounts, "_DUMMY_HASH", accounts._hasher.hash("not-a-real-password"))
    monkeypatch.setattr(accounts, "MAX_FAILURES_PER_ADDRESS", 8)


def post_token(client, body, address="192.0.2.1", **headers):
    return client.post("/api/v1/auth/tokens", json=body, headers=headers, environ_base={"REMOTE_ADDR": address})


def test_40_parallel_wrong_passwords_check_exactly_the_limit(app, make_user, monkeypatch):
    # A password check as slow as a real one leaves room for a race between counting and checking.
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=3, memory_cost=16384, parallelism=1))
    make_user("eva")

    def attempt(_: int) -> int:
        return post_token(app.test_client(), WRONG).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = Counter(pool.map(attempt, range(40)))

    assert statuses == {401: accounts.MAX_FAILURES_PER_USERNAME, 429: 40 - accounts.MAX_FAILURES_PER_USERNAME}


def test_one_address_is_limited_across_usernames(client, make_user):
    make_user("eva")
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        assert post_token(client, {"username": f"guess{i}", "password": "x"}).status_code == 401

    refused = post_token(client, {"username": "eva", "password": PASSWORD})
    elsewhere = post_token(client, {"username": "eva", "password": PASSWORD}, address="192.0.2.99")

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 201


def test_successful_logins_from_one_address_do_not_add_up(client, make_user):
    make_user("eva")
    for _ in range(accounts.MAX_FAILURES_PER_ADDRESS + 5):
        assert post_token(client, {"username": "eva", "password": PASSWORD}).status_code == 201


def test_forwarded_for_is_ignored_without_trusted_proxies(client, make_user):
    make_user("eva")
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        post_token(client, {"username": f"guess{i}", "password": "x"}, **{"X-Forwarded-For": f"198.51.100.{i}"})

    spoofed = post_token(client, {"username": "eva", "password": PASSWORD}, **{"X-Forwarded-For": "203.0.113.7"})

    assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_apart(app, make_user):
    from api import create_app

    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})
    make_user("eva")
    client = proxied.test_client()
    proxy = "10.0.0.1"  # every request reaches us from the proxy
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        post_token(client, {"username": f"guess{i}", "password": "x"}, address=proxy,
                   **{"X-Forwarded-For": "198.51.100.1"})

    guesser = post_token(client, {"username": "eva", "password": PASSWORD}, address=proxy,
                         **{"X-Forwarded-For": "198.51.100.1"})
    colleague = post_token(client, {"username": "eva", "password": PASSWORD}, address=proxy,
                           **{"X-Forwarded-For": "198.51.100.2"})

    assert guesser.status_code == 429
    assert colleague.status_code == 201


def test_pages_login_shares_the_atomic_count(client, make_user):
    make_user("eva")
    for _ in range(accounts.MAX_FAILURES_PER_USERNAME):
        assert client.post("/login", data={"username": "eva", "password": "nope"}).status_code == 401

    assert client.post("/login", data={"username": "eva", "password": PASSWORD}).status_code == 429

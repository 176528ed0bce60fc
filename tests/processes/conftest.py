"""The woonoverlast scenarios share one world: see tests/processes/flow.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.processes.flow import Woonoverlast, woonoverlast


@pytest.fixture
def flow(app: Flask, client: FlaskClient) -> Iterator[Woonoverlast]:
    with woonoverlast(app, client) as world:
        yield world

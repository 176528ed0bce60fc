"""Ketenregie's case engine: process models, cases, work items, timers and history.

This package never imports Flask (enforced by import-linter, see pyproject.toml). Engine
functions take an SQLAlchemy Session as their first argument and never commit: the caller
(a request, the timer sweeper, a CLI command) owns the transaction.
"""

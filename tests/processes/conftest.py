"""The woonoverlast scenarios share one world, the `flow` fixture (tests/conftest.py, built in flow.py)."""

"""`flask serve` (what `make run` starts) really serves the app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serve_command_answers_on_its_port(database_url, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test", "ACCESS_LOG_KEY": "test",
           "TIMER_SWEEP_SECONDS": "3600"}
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "api", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # Werkzeug announces the address once it is listening
            if "Running on" in line:
                break
        else:
            raise AssertionError(f"server exited with {server.wait()}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
            assert "Inloggen" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)

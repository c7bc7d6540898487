"""A server started for a test, waited for until it takes connections, stopped at the end."""
from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(argv: Sequence[str], cwd: Path, env: dict[str, str], port: int, deadline: float) -> Iterator[None]:
    """Run ``argv`` until the block ends; the block starts once ``port`` takes connections (the test fails
    with the server's output if it exits or is not listening within ``deadline`` seconds)."""
    server = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        until = time.monotonic() + deadline
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > until:
                    pytest.fail(f"{argv[2] if len(argv) > 2 else argv[0]} did not start: "
                                f"{server.communicate(timeout=5)[0]}")
                time.sleep(0.1)
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

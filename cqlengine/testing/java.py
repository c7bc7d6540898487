"""Finding a Java that runs Cassandra 5.0 (11 or 17), and checking the one found."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Optional

from cqlengine.testing.errors import JavaError

MIN_JAVA = 11
MAX_JAVA = 17  # Cassandra 5.0 supports Java 11 and 17.


def find_java(env: Optional[dict[str, str]] = None) -> str:
    env = dict(os.environ if env is None else env)
    if env.get("JAVA_HOME"):
        candidate = Path(env["JAVA_HOME"]) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("java", path=env.get("PATH"))
    if not found:
        raise JavaError(
            "Java was not found (no JAVA_HOME, no `java` on PATH). Cassandra 5.0 needs Java 11 "
            "or 17: install one (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME."
        )
    return found


def parse_java_major(version_output: str) -> int:
    """Major version from ``java -version`` output (``1.8.0_x`` is 8)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        raise JavaError(f"Could not read the Java version from: {version_output.strip()[:200]!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def check_java(java: str, runner: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> int:
    try:
        result = runner([java, "-version"], capture_output=True, text=True)
    except OSError as exc:
        raise JavaError(f"{java} cannot be run ({exc}); install Java 17 or set JAVA_HOME to a working one.") from exc
    major = parse_java_major((result.stderr or "") + (result.stdout or ""))
    if major < MIN_JAVA:
        raise JavaError(
            f"{java} is Java {major}; Cassandra 5.0 needs Java 11 or 17. Install Java 17 "
            "(e.g. `apt-get install openjdk-17-jre-headless`) and set JAVA_HOME to it."
        )
    if major > MAX_JAVA:
        raise JavaError(
            f"{java} is Java {major}; Cassandra 5.0 runs on Java 11 or 17 only. "
            "Set JAVA_HOME to a Java 17 installation."
        )
    return major

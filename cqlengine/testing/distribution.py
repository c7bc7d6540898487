"""Cassandra's jars from Maven Central: resolved once by Maven (strict checksums) into the cache, checked,
and the first download's progress reported."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import filelock

from cqlengine.testing.errors import DownloadError
from cqlengine.testing.settings import ServerSettings

POM_TEMPLATE = """\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cqlengine.local</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


def distribution_dir(settings: ServerSettings) -> Path:
    return settings.cache / f"cassandra-{settings.version}"


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_jars(lib_dir: Path, repo: Path) -> None:
    """Check every jar against the SHA-1 Maven Central published for it."""
    published = {p.name[: -len(".sha1")]: p for p in repo.rglob("*.jar.sha1")}
    for jar in sorted(lib_dir.glob("*.jar")):
        sha_file = published.get(jar.name)
        if sha_file is None:
            continue  # the registry published no checksum for it
        words = sha_file.read_text().split()
        expected = words[0].strip().lower() if words else ""
        actual = _sha1(jar)
        if expected and actual != expected:
            # The local Maven repository holds the same bad bytes: drop them too.
            shutil.rmtree(sha_file.parent, ignore_errors=True)
            raise DownloadError(
                f"{jar.name} is truncated or corrupt: its SHA-1 is {actual}, Maven Central "
                f"published {expected}. The partial download was removed; run again to "
                "fetch it anew."
            )


def _classify_maven_failure(output: str) -> str:
    lowered = output.lower()
    if "checksum" in lowered:
        return "a download failed its checksum"
    if any(w in lowered for w in ("403", "401", "forbidden", "refused", "could not transfer",
                                  "unknownhost", "unknown host", "connect timed out")):
        return "the download was refused or the registry could not be reached"
    if "could not find artifact" in lowered or "could not resolve" in lowered:
        return "the artifact could not be resolved"
    return "Maven failed"


def ensure_distribution(
    settings: ServerSettings,
    runner: Optional[Callable[..., subprocess.CompletedProcess]] = None,
    log: Callable[[str], None] = lambda msg: None,
) -> Path:
    """Return the directory of Cassandra's jars, downloading them once into the cache.

    The first download (about 60 MB) reports its progress through ``log``.
    """
    final = distribution_dir(settings)
    if (final / ".complete").exists():
        return final / "lib"
    lock = filelock.FileLock(str(settings.cache / "download.lock"))
    try:
        settings.cache.mkdir(parents=True, exist_ok=True)
        lock.acquire()  # two first runs at once download once
    except OSError as exc:
        raise DownloadError(f"Cannot write to the cache {settings.cache} ({exc}): set "
                            "CQLENGINE_CASSANDRA_CACHE to a writable directory.") from exc
    try:
        if (final / ".complete").exists():
            return final / "lib"
        return _download(settings, final, runner or MavenProgress(log).run, log)
    finally:
        lock.release()


def _download(settings: ServerSettings, final: Path, runner: Callable[..., subprocess.CompletedProcess],
              log: Callable[[str], None]) -> Path:
    mvn = shutil.which("mvn")
    if not mvn:
        raise DownloadError(
            "Cassandra is not cached and Maven (`mvn`) is not installed to fetch it from Maven "
            "Central. Install Maven (e.g. `apt-get install maven`), or set CASSANDRA_HOME to an "
            "installed Cassandra 5.0, or CQLENGINE_TEST_HOSTS to a running cluster."
        )
    settings.cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"cassandra-{settings.version}.", dir=settings.cache))
    repo = settings.cache / "m2"
    try:
        (staging / "pom.xml").write_text(POM_TEMPLATE.format(version=settings.version))
        log(f"fetching Cassandra {settings.version} from Maven Central into {final} ...")
        started = time.monotonic()
        result = runner(
            [mvn, "-B", "-C",  # -C: strict checksums, a mismatch fails the build
             f"-Dmaven.repo.local={repo}", "-f", str(staging / "pom.xml"),
             "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={staging / 'lib'}"],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            output = (result.stdout or "") + (result.stderr or "")
            tail = "\n".join(output.strip().splitlines()[-15:])
            raise DownloadError(
                f"Could not fetch org.apache.cassandra:cassandra-all:{settings.version}: "
                f"{_classify_maven_failure(output)}.\n{tail}\nCheck access to Maven Central, or "
                "set CASSANDRA_HOME / CQLENGINE_TEST_HOSTS."
            )
        lib = staging / "lib"
        if not lib.is_dir() or not any(lib.glob("cassandra-all-*.jar")):
            raise DownloadError(f"Maven finished but no cassandra-all jar arrived in {lib}.")
        verify_jars(lib, repo)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        (final / ".complete").write_text(json.dumps({"version": settings.version}))
        log(f"fetched in {time.monotonic() - started:.1f} s")
        return final / "lib"
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


_DOWNLOADED = re.compile(r"^\[INFO\] Downloaded from \S+: \S+ \(([\d.]+) (B|kB|MB|GB)")
_UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def downloaded_bytes(line: str) -> Optional[int]:
    """The size of the file a Maven ``Downloaded from ...`` line reports; None for other lines."""
    match = _DOWNLOADED.match(line.strip())
    return int(float(match.group(1)) * _UNITS[match.group(2)]) if match else None


class MavenProgress:
    """Runs Maven, reporting every few seconds how many files and bytes it has fetched."""

    def __init__(self, log: Callable[[str], None], every: float = 5.0) -> None:
        self.log = log
        self.every = every
        self.files = 0
        self.bytes = 0

    def feed(self, line: str, now: float, last: float) -> float:
        """Count one line of output; report when ``every`` seconds passed since ``last``."""
        size = downloaded_bytes(line)
        if size is None:
            return last
        self.files += 1
        self.bytes += size
        if now - last >= self.every:
            self.log(f"  ... {self.files} files, {self.bytes / 1e6:.1f} MB so far")
            return now
        return last

    def run(self, command: Sequence[str], **_: Any) -> subprocess.CompletedProcess:
        output: list[str] = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            assert proc.stdout is not None
            last = time.monotonic()
            for line in proc.stdout:
                output.append(line)
                last = self.feed(line, time.monotonic(), last)
        if self.files:
            self.log(f"  ... {self.files} files, {self.bytes / 1e6:.1f} MB in all")
        return subprocess.CompletedProcess(command, proc.returncode, stdout="".join(output), stderr="")


"""cqlengine at another revision beside this one: the same workloads, in the same rounds, in one process.

Two runs of ``run.py``, one per checkout, differ by more than the code: the node's
state, the machine's load and its clock move between them (on 2 cores the same
code's ``ours/raw`` moves by up to 10 % run to run). Here both mappers take turns
within every round with the raw driver, so each round gives a ratio of the two
mappers measured under the same conditions, and the median of those ratios
is what a change costs.

The other revision's ``cqlengine/`` is read with ``git archive`` and imported
under another package name (``cqlengine_<rev>``: its imports of ``cqlengine``
rewritten, nothing else). ``run.py``'s workloads are built twice, once on each
package (its models are plain module-level classes), and merged: contenders
``ours`` (this checkout), ``before`` (the other revision) and ``raw``. The
peer and the OpenTelemetry variant are left out.

    .venv/bin/python benchmarks/versions.py 9c89081            # about 8 minutes on 2 cores
    .venv/bin/python benchmarks/versions.py 9c89081 --quick
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from harness import Variant, Workload, median_interval, run_workload  # noqa: E402 - benchmarks/ is on sys.path

HERE = Path(__file__).resolve().parent
IMPORT = re.compile(r"^(\s*(?:from|import)\s+)cqlengine(?=[\s.])", re.MULTILINE)


def rename_imports(source: str, package: str) -> str:
    """``source`` with its ``import cqlengine...`` / ``from cqlengine... import`` statements naming ``package``."""
    return IMPORT.sub(lambda m: m.group(1) + package, source)


def export_package(rev: str, into: Path) -> str:
    """Write ``rev``'s ``cqlengine/`` under ``into`` as package ``cqlengine_<rev>``; return its name."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=HERE, check=True, capture_output=True,
                         text=True).stdout.strip()
    name = f"cqlengine_{sha}"
    archive = subprocess.run(["git", "archive", "--format=tar", sha, "cqlengine"], cwd=HERE.parent, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            target = into / name / Path(member.name).relative_to("cqlengine")
            target.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith(".py"):
                data = rename_imports(data.decode(), name).encode()
            target.write_bytes(data)
    return name


def load_run_on(package: str) -> ModuleType:
    """A second copy of ``run.py`` whose ``import cqlengine...`` statements get ``package``'s modules."""
    for sub in ("columns", "connection", "management", "models", "query"):
        importlib.import_module(f"{package}.{sub}")
    ours = {k: v for k, v in sys.modules.items() if k == "cqlengine" or k.startswith("cqlengine.")}
    theirs = {"cqlengine" + k[len(package):]: v for k, v in sys.modules.items()
              if k == package or k.startswith(package + ".")}
    spec = importlib.util.spec_from_file_location(f"run_on_{package}", HERE / "run.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    for k in ours:
        del sys.modules[k]
    sys.modules.update(theirs)
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        for k in theirs:
            del sys.modules[k]
        sys.modules.update(ours)
    return module


def merged(ours: Any, before: Any) -> Iterator[Callable[[], Workload]]:
    """Each workload of ``run.py`` with this checkout's variants, the other revision's, and raw's."""
    for make_ours, make_before in zip(ours.workloads(), before.workloads()):
        def make(make_ours: Callable[[], Workload] = make_ours,
                 make_before: Callable[[], Workload] = make_before) -> Workload:
            w, b = make_ours(), make_before()
            keep = [v for v in w.variants if v.contender in ("ours", "raw") and "OpenTelemetry" not in v.label]
            theirs = [Variant("before", "before" + v.label.removeprefix("ours"), v.run, v.prepare, v.warm)
                      for v in b.variants if v.contender == "ours" and "OpenTelemetry" not in v.label]
            w.variants = keep + theirs
            return w
        yield make


def ratios(a: Variant, b: Variant) -> list[float]:
    """a's CPU over b's in the same round, for every round."""
    by_round = {s["round"]: s["cpu_s"] for s in b.samples}
    return [s["cpu_s"] / by_round[s["round"]] for s in a.samples]


def summarize(w: Workload) -> list[dict[str, Any]]:
    raw = next(v for v in w.variants if v.contender == "raw")
    before = {v.label.removeprefix("before"): v for v in w.variants if v.contender == "before"}
    lines = []
    for v in w.variants:
        if v.contender != "ours":
            continue
        suffix = v.label.removeprefix("ours")
        b = before[suffix]
        change = ratios(v, b)
        low, high = median_interval(change)
        lines.append({"workload": w.name + suffix, "ours_cpu_us": v.cpu_us(w.n), "before_cpu_us": b.cpu_us(w.n),
                      "raw_cpu_us": raw.cpu_us(w.n), "ours_raw": statistics.median(ratios(v, raw)),
                      "before_raw": statistics.median(ratios(b, raw)), "ours_before": statistics.median(change),
                      "ours_before_low": low, "ours_before_high": high})
    return lines


def main(argv: list[str] | None = None) -> int:
    import run as current  # the benchmark itself, with this checkout's cqlengine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the revision to compare with (a commit, tag or branch of this repository)")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="run only the workloads whose name contains TEXT (repeatable)")
    ours_args, rest = parser.parse_known_args(argv)
    args = current.parse_args(rest)
    if args.json == current.RESULTS:
        args.json = HERE / "results" / "versions.json"
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    cluster_options: dict[str, Any] = {"sockopts": []} if args.nagle else {"sockopts": current.NODELAY}
    with tempfile.TemporaryDirectory(prefix="cqlengine-versions-") as tmp:
        package = export_package(ours_args.rev, Path(tmp))
        sys.path.insert(0, tmp)
        other = load_run_on(package)
        print(f"this checkout against {ours_args.rev} ({package}); keyspace {current.KEYSPACE} is created now "
              "and dropped at the end", flush=True)
        current.connection.setup(hosts, **cluster_options)
        other.connection.setup(hosts, **cluster_options)
        raw = current.Raw(hosts, args.fetch_size, cluster_options)
        lines: list[dict[str, Any]] = []
        samples: list[dict[str, Any]] = []
        benches: list[Any] = []
        try:
            current.create_schema(raw, hosts, cluster_options)
            ours, before = current.Bench(args, raw), other.Bench(args, raw)
            benches += [ours, before]
            ours.seed()
            before.user_keys, before.wide_keys = ours.user_keys, ours.wide_keys
            before.counter = 10**9  # fresh rows of its own: no key written by both
            time.sleep(2)
            for make in merged(ours, before):
                w = make()
                if ours_args.only and not any(text in w.name for text in ours_args.only):
                    continue
                t0 = time.perf_counter()
                run_workload(w, args.rounds)
                for line in summarize(w):
                    lines.append(line)
                    print(f"  {line['workload']:<32} {time.perf_counter() - t0:5.1f} s   ours/raw "
                          f"{line['ours_raw']:.2f}  before/raw {line['before_raw']:.2f}  ours/before "
                          f"{line['ours_before']:.3f} ({line['ours_before_low']:.3f}-{line['ours_before_high']:.3f})",
                          flush=True)
                samples += [{"workload": w.name, "contender": v.contender, "variant": v.label, **s}
                            for v in w.variants for s in v.samples]
        finally:
            for bench in benches:
                bench.close()
            try:
                current.management.drop_keyspace(current.KEYSPACE)
            finally:
                if "default" in current.peer_connection._connections:  # noqa: SLF001 - no public check
                    current.peer_connection.unregister_connection("default")
                raw.shutdown()
                current.connection.unregister_connection(current.connection.DEFAULT_CONNECTION)
                other.connection.unregister_connection(other.connection.DEFAULT_CONNECTION)
    print()
    print(f"{args.rounds} rounds; µs: median client CPU per op; each ratio: the median over rounds of the two CPU "
          "times of one round; 95 %: a distribution-free interval of that median")
    width = max(len(ln["workload"]) for ln in lines) + 2
    print(f"{'workload':<{width}}{'ours µs':>10}{'before µs':>11}{'raw µs':>9}{'ours/raw':>10}{'before/raw':>12}"
          f"{'ours/before':>13}{'95 %':>15}")
    for ln in lines:
        print(f"{ln['workload']:<{width}}{ln['ours_cpu_us']:>10.1f}{ln['before_cpu_us']:>11.1f}"
              f"{ln['raw_cpu_us']:>9.1f}{ln['ours_raw']:>10.2f}{ln['before_raw']:>12.2f}{ln['ours_before']:>13.3f}"
              f"{ln['ours_before_low']:>8.3f}-{ln['ours_before_high']:.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rev": ours_args.rev, "package": package, "settings": vars(args),
                                     "summary": lines, "samples": samples}, indent=1, default=str) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

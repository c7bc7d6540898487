"""``python -m cqlengine sync`` in a subprocess against the real server."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from cqlengine import connection

MODELS_V1 = """
from cqlengine import columns
from cqlengine.models import Model

class Gadget(Model):
    __keyspace__ = {ks!r}
    id = columns.Integer(primary_key=True)
    name = columns.Text()
"""

MODELS_V2 = MODELS_V1 + """
    price = columns.Decimal()
    kind = columns.Text(index=True)
"""

MODELS_CONFLICT = """
from cqlengine import columns
from cqlengine.models import Model

class Gadget(Model):
    __keyspace__ = {ks!r}
    id = columns.Integer(primary_key=True)
    name = columns.Integer()
"""

MODELS_BROKEN = """
from cqlengine import columns
from cqlengine.models import Model

class Broken(Model):
    name = columns.Text()
"""

MODELS_NO_KS = """
from cqlengine import columns
from cqlengine.models import Model

class Widget(Model):
    id = columns.Integer(primary_key=True)
"""


@pytest.fixture
def run(cassandra, tmp_path):
    def run(source: str, *args: str, module: str = "") -> subprocess.CompletedProcess:
        module = module or f"cli_models_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "cqlengine", "sync", "--hosts", *cassandra.contact_points,
               "--port", str(cassandra.port), *args, module]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return run


def _columns(ks: str, table: str) -> set[str]:
    rows = connection.execute("SELECT column_name FROM system_schema.columns "
                              "WHERE keyspace_name = ? AND table_name = ?", [ks, table])
    return {r["column_name"] for r in rows}


def test_help():
    out = subprocess.run([sys.executable, "-m", "cqlengine", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "sync" in out.stdout and "--plan" in out.stdout and "exit status" in out.stdout
    out = subprocess.run([sys.executable, "-m", "cqlengine", "sync", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--keyspace" in out.stdout


def test_plan_apply_in_sync_and_refusal_exit_codes(run, cqlengine_keyspace):
    ks = cqlengine_keyspace
    v1 = MODELS_V1.format(ks=ks)
    out = run(v1, "--plan")
    assert out.returncode == 2, out.stderr
    assert "[create_table]" in out.stdout and f"CREATE TABLE {ks}.gadget" in out.stdout
    assert _columns(ks, "gadget") == set()  # --plan applied nothing

    out = run(v1)
    assert out.returncode == 0, out.stderr
    assert "applied 1 change(s)" in out.stdout
    assert _columns(ks, "gadget") == {"id", "name"}

    out = run(v1, "--plan")
    assert out.returncode == 0, out.stderr
    assert f"in sync: table {ks}.gadget" in out.stdout

    v2 = MODELS_V2.format(ks=ks)
    out = run(v2, "--plan")
    assert out.returncode == 2
    assert out.stdout.count("[add_column]") == 2 and "[create_index]" in out.stdout
    assert run(v2).returncode == 0
    assert _columns(ks, "gadget") == {"id", "name", "price", "kind"}
    assert run(v2, "--plan").returncode == 0

    out = run(MODELS_CONFLICT.format(ks=ks))
    assert out.returncode == 1
    assert "column name: type differs: database has text, model Gadget has int" in out.stdout
    assert "refused" in out.stderr


def test_bad_inputs_fail_clearly(run, cassandra, cqlengine_keyspace, tmp_path):
    out = run("raise RuntimeError('boom')\n")
    assert out.returncode == 1 and "RuntimeError: boom" in out.stderr and out.stdout == ""

    out = run(MODELS_BROKEN)
    assert out.returncode == 1
    assert "ModelDefinitionException" in out.stderr and "Broken" in out.stderr

    out = run(MODELS_NO_KS, "--keyspace", "cli_no_such_keyspace")
    assert out.returncode == 1 and "keyspace 'cli_no_such_keyspace' does not exist" in out.stderr

    out = run(MODELS_V1.format(ks="cli_missing_ks"))
    assert out.returncode == 1 and "Keyspace 'cli_missing_ks' for model Gadget does not exist" in out.stderr

    out = run(MODELS_NO_KS, "--keyspace", cqlengine_keyspace)
    assert out.returncode == 0, out.stderr
    assert _columns(cqlengine_keyspace, "widget") == {"id"}

    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    (tmp_path / "cli_unreachable.py").write_text(MODELS_NO_KS)
    out = subprocess.run([sys.executable, "-m", "cqlengine", "sync", "--hosts", "127.0.0.1", "--port", "1",
                          "--keyspace", cqlengine_keyspace, "cli_unreachable"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "could not reach Cassandra" in out.stderr and "Traceback" not in out.stderr


def test_usage_errors_exit_1_not_the_pending_code(run, cqlengine_keyspace):
    for argv in (["sync"], ["bogus"], ["sync", "--port", "abc", "mod"]):
        out = subprocess.run([sys.executable, "-m", "cqlengine", *argv], capture_output=True, text=True)
        assert out.returncode == 1, (argv, out.stderr)
        assert "error:" in out.stderr
    out = run("import sys\nsys.exit(3)\n")
    assert out.returncode == 1 and "cannot import" in out.stderr and "SystemExit" in out.stderr
    out = run(MODELS_NO_KS, "--keyspace", cqlengine_keyspace, "--port", "70000")
    assert out.returncode == 1 and "70000 is not between 1 and 65535" in out.stderr


def test_a_polymorphic_module_plans_its_table_once(run, cqlengine_keyspace):
    source = """
    import uuid
    from cqlengine import columns
    from cqlengine.models import Model

    class Pet(Model):
        __table_name__ = "cli_pets"
        owner = columns.Integer(partition_key=True)
        pet = columns.UUID(primary_key=True, default=uuid.uuid4)
        kind = columns.Text(polymorphic_key=True)

    class Cat(Pet):
        __polymorphic_key__ = "cat"
        lives = columns.Integer()

    class Dog(Pet):
        __polymorphic_key__ = "dog"
        bark = columns.Text()
    """
    out = run(source, "--keyspace", cqlengine_keyspace)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("CREATE TABLE") == 1
    assert _columns(cqlengine_keyspace, "cli_pets") == {"owner", "pet", "kind", "lives", "bark"}


def _cli(args: list[str], tmp_path, env_changes: dict[str, str], source: str = "") -> subprocess.CompletedProcess:
    module = f"cli_models_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source or MODELS_NO_KS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQLENGINE_")}
    env.update(PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""), **env_changes)
    return subprocess.run([sys.executable, "-m", "cqlengine", *args, module], env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_version():
    out = subprocess.run([sys.executable, "-m", "cqlengine", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("cqlengine ") and "cassandra-driver 3." in out.stdout


def test_hosts_come_from_cqlengine_hosts_not_the_test_variable(cassandra, cqlengine_keyspace, tmp_path):
    here = f"{cassandra.contact_points[0]}:{cassandra.port}"
    out = _cli(["sync", "--keyspace", cqlengine_keyspace], tmp_path,
               {"CQLENGINE_HOSTS": here, "CQLENGINE_TEST_HOSTS": "127.0.0.1:1"})
    assert out.returncode == 0, out.stderr
    out = _cli(["sync", "--keyspace", cqlengine_keyspace], tmp_path, {"CQLENGINE_HOSTS": "127.0.0.1:1"})
    assert out.returncode == 1 and "check --hosts/--port (or $CQLENGINE_HOSTS)" in out.stderr


def test_a_username_takes_its_password_from_the_environment_never_an_argument(cassandra, cqlengine_keyspace,
                                                                              tmp_path):
    here = f"{cassandra.contact_points[0]}:{cassandra.port}"
    base = ["sync", "--keyspace", cqlengine_keyspace, f"--hosts={here}"]
    # This node lets anyone in: the credentials are sent and accepted.
    out = _cli([*base, "--username", "alice"], tmp_path, {"CQLENGINE_PASSWORD": "s3cret"})
    assert out.returncode == 0, out.stderr
    out = _cli(base, tmp_path, {"CQLENGINE_USERNAME": "alice", "CQLENGINE_PASSWORD": "s3cret"})
    assert out.returncode == 0, out.stderr
    out = _cli([*base, "--username", "alice"], tmp_path, {})
    assert out.returncode == 1 and "set CQLENGINE_PASSWORD (there is no terminal to ask on)" in out.stderr
    out = _cli([*base, "--password", "s3cret"], tmp_path, {})
    assert out.returncode == 1 and "unrecognized arguments: --password" in out.stderr


def test_tls_options_are_checked_and_named(cassandra, cqlengine_keyspace, tmp_path):
    import ssl

    here = f"{cassandra.contact_points[0]}:{cassandra.port}"
    base = ["sync", "--keyspace", cqlengine_keyspace, f"--hosts={here}"]
    out = _cli([*base, "--ssl-ca", str(tmp_path / "missing.pem")], tmp_path, {})
    assert out.returncode == 1 and "--ssl-ca: no such file" in out.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    out = _cli([*base, "--ssl-ca", str(junk)], tmp_path, {})
    assert out.returncode == 1 and "--ssl-ca" in out.stderr and "no usable CA certificate" in out.stderr
    out = _cli([*base, "--ssl-cert", str(junk)], tmp_path, {})
    assert out.returncode == 1 and "--ssl-cert and --ssl-key go together" in out.stderr
    bundle = ssl.get_default_verify_paths().cafile
    if bundle:  # a real CA bundle: TLS is tried, and this node does not speak it
        out = _cli([*base, "--ssl-ca", bundle], tmp_path, {})
        assert out.returncode == 1 and "check that the cluster takes TLS" in out.stderr, out.stderr


def test_the_password_is_asked_for_when_not_in_the_environment():
    from cqlengine.__main__ import build_parser, connection_options

    args = build_parser().parse_args(["sync", "--username", "bob", "m"])
    asked = []
    options = connection_options(args, env={}, ask=lambda prompt: asked.append(prompt) or "typed")
    assert asked == ["password for bob: "]
    assert options["auth_provider"].username == "bob" and options["auth_provider"].password == "typed"
    assert connection_options(build_parser().parse_args(["sync", "m"]), env={}) == {}

"""python -m cqlengine sync: plan and apply from the shell, and --plan as a drift check."""
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from cqlengine import connection
from cqlengine.management import create_keyspace_simple

connection.setup(["127.0.0.1"], default_keyspace="docs_schema")
create_keyspace_simple("docs_schema", replication_factor=1)
cluster = connection.get_cluster()
hosts = [str(h) for h in cluster.contact_points]

# -- models module
MODELS = textwrap.dedent('''
    from cqlengine import columns
    from cqlengine.models import Model

    class Order(Model):
        __table_name__ = "orders"
        order_id = columns.Integer(primary_key=True)
        total = columns.Decimal()
''')
# -- end models module

workdir = Path(tempfile.mkdtemp())
(workdir / "shop_models.py").write_text(MODELS)


def cli(*args):
    """Run the CLI as a shell would; its exit status and output."""
    command = [sys.executable, "-m", "cqlengine", "sync", "--hosts", *hosts, "--port", str(cluster.port),
               "--keyspace", "docs_schema", *args, "shop_models.py"]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120)
    print(f"$ python -m cqlengine sync ... {' '.join(args)} shop_models.py -> exit {done.returncode}")
    print(textwrap.indent(done.stdout + done.stderr, "    "))
    return done.returncode


# -- drift check
assert cli("--plan") == 2  # a table to create: changes pending, nothing applied
assert cli() == 0  # applied
assert cli("--plan") == 0  # in sync

(workdir / "shop_models.py").write_text(MODELS.replace("columns.Decimal()", "columns.Double()"))
assert cli("--plan") == 1  # a changed column type: refused
assert cli() == 1  # refused here too: nothing is sent
# -- end drift check
shutil.rmtree(workdir)
print("ok")

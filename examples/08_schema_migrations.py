"""A model evolved through schema migrations: a table, a new column, then a key change (int id to uuid)
carried by the generated data migration while the application keeps writing."""
import tempfile
import threading
import uuid
from pathlib import Path

from _demo import KEYSPACE, connect

from cqlengine import columns
from cqlengine.management import create_keyspace_simple, drop_keyspace
from cqlengine.migrate.compare import verify
from cqlengine.migrations import MigrationWaiting, applied_migrations, apply_migrations, load_migrations, make_migration
from cqlengine.mirroring import mirror
from cqlengine.models import Model

NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
# A keyspace of this run alone: the history of migrations lives in it, and goes with it.
KEYSPACE_OF_THIS_RUN = f"{KEYSPACE}_schema_{uuid.uuid4().hex[:8]}"


def customer_model(version: int) -> type[Model]:
    """The customers table as the application declares it in its first and second versions."""

    class Customer(Model):
        __keyspace__ = KEYSPACE_OF_THIS_RUN
        __table_name__ = "customers"
        id = columns.Integer(partition_key=True)
        name = columns.Text()
        if version >= 2:
            email = columns.Text(index=True)

    return Customer


class CustomerByUuid(Model):
    """The third version: customers partitioned by a uuid."""

    __keyspace__ = KEYSPACE_OF_THIS_RUN
    __table_name__ = "customers_by_uuid"
    id = columns.UUID(partition_key=True)
    legacy_id = columns.Integer()
    name = columns.Text()
    email = columns.Text(index=True)


def to_uuid(customer):
    """An old row as the new table holds it: the same uuid for an id every time."""
    return {"id": uuid.uuid5(NAMESPACE, str(customer.id)), "legacy_id": customer.id, "name": customer.name,
            "email": customer.email}


connect()
keyspace = KEYSPACE_OF_THIS_RUN
create_keyspace_simple(keyspace, replication_factor=1)
folder = Path(tempfile.mkdtemp()) / "migrations"


def step(title: str, models: list, name: str) -> None:
    path = make_migration(models, folder, name=name)
    print(f"\n== {title}: wrote {path.name}")
    for op in load_migrations(folder)[-1].operations:
        print(f"   - {op.describe()}{' (destructive)' if op.destructive else ''}")


try:
    # 1. The first version.
    Customer = customer_model(1)
    step("first version", [Customer], "customers")
    print("   applied:", apply_migrations(folder, keyspace))
    for i in range(300):
        Customer.create(id=i, name=f"customer {i}")

    # 2. A column, with an index.
    Customer = customer_model(2)
    step("a column", [Customer], "customer email")
    print("   applied:", apply_migrations(folder, keyspace))
    Customer.objects(id=1).update(email="one@example.com")

    # 3. The key changes: the writes branch declares the new table and mirrors into it.
    writes_branch = mirror(Customer, CustomerByUuid, to_uuid)
    step("a key change", [Customer, CustomerByUuid], "customers by uuid")
    try:
        apply_migrations(folder, keyspace)
    except MigrationWaiting as waiting:
        print("  ", waiting.what)

    # The writes branch is deployed: the application writes while the rows are copied and checked.
    stop, writes = threading.Event(), {"created": 0, "updated": 0, "deleted": 0}

    def application() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            Customer.create(id=1000 + i, name=f"new customer {i}", email=f"new{i}@example.com")
            writes["created"] += 1
            Customer.objects(id=i % 300).update(name=f"renamed {i}")
            writes["updated"] += 1
            if i % 4 == 0:
                Customer.objects(id=1000 + i - 1).delete()
                writes["deleted"] += 1

    running = threading.Thread(target=application)
    running.start()
    try:
        apply_migrations(folder, keyspace, deployed=["0003_customers_by_uuid"])
    except MigrationWaiting as waiting:
        print("   backfilled and verified; now", waiting.what)
    finally:
        stop.set()
        running.join()
    print(f"   live writes during the copy and the check: {writes}")
    print("  ", verify(Customer, CustomerByUuid, to_uuid))

    # The reads branch is deployed: it reads CustomerByUuid and no longer mirrors.
    writes_branch.stop()
    print("   applied:", apply_migrations(folder, keyspace, deployed=["0003_customers_by_uuid"]))
    moved = CustomerByUuid.get(id=to_uuid(Customer.get(id=1))["id"])
    print(f"   customer 1 now: id {moved.id}, legacy_id {moved.legacy_id}, {moved.name!r}, {moved.email}")

    # 4. Nothing reads the old table any more: the next migration drops it.
    step("the old table dropped", [CustomerByUuid], "drop customers")
    print("   applied:", apply_migrations(folder, keyspace))
    print("\nhistory:")
    for name, row in sorted(applied_migrations(keyspace).items()):
        print(f"   {name}: {row.statements_done} step(s), {row.duration_ms} ms, by {row.applied_by}")
finally:
    drop_keyspace(keyspace)

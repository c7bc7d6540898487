"""Schema changes: sync_table, the plan, conflicts, user types and drop_table."""
from cqlengine import columns, connection
from cqlengine.exceptions import SchemaMismatch
from cqlengine.management import (
    create_keyspace_simple,
    drop_table,
    get_table,
    plan,
    sync_table,
    sync_type,
)
from cqlengine.models import Model
from cqlengine.usertype import UserType

connection.setup(["127.0.0.1"], default_keyspace="docs_schema")
create_keyspace_simple("docs_schema", replication_factor=1)
create_keyspace_simple("docs_schema", replication_factor=1)  # already there, same replication: nothing to do


# -- version 1
class User(Model):
    __table_name__ = "users"
    user_id = columns.Integer(primary_key=True)
    name = columns.Text()
    legacy = columns.Text()


first = sync_table(User)  # CREATE TABLE
assert first.kinds() == ["create_table"] and first.applied
User.create(user_id=1, name="ada", legacy="x")
# -- end version 1


# -- version 2
class User(Model):  # noqa: F811 - the next version of the same model
    __table_name__ = "users"
    __options__ = {"comment": "application users"}
    user_id = columns.Integer(primary_key=True)
    name = columns.Text()
    email = columns.Text(index=True)
    # legacy is gone from the model


pending = plan(User)  # reads system_schema, sends no DDL
print(pending)
assert pending.kinds() == ["add_column", "alter_table_options", "create_index"]
assert any("legacy" in w for w in pending.warnings)  # reported, never dropped
assert not pending.conflicts

same = sync_table(User, dry_run=True)  # the same plan, nothing applied
assert same.kinds() == pending.kinds() and not same.applied

sync_table(User)  # applies the three changes; returns once the index is built
assert User.objects(email="ada@example.com").count() == 0  # the index answers
assert not plan(User)  # nothing left to do
assert "legacy" in get_table("docs_schema", "users").columns  # the data is still there
# -- end version 2


# -- conflict
class User(Model):  # noqa: F811
    __table_name__ = "users"
    user_id = columns.Integer(primary_key=True)
    name = columns.Integer()  # was text
    email = columns.Text(index=True)
    age = columns.Integer()


refused = plan(User)
print(refused)
assert [c.column for c in refused.conflicts] == ["column name"]
try:
    sync_table(User)
except SchemaMismatch as exc:
    print(exc)
else:
    raise AssertionError("a new column type is refused")
assert "age" not in get_table("docs_schema", "users").columns  # nothing of the plan was applied
# -- end conflict


# -- user types
class Address(UserType):
    street = columns.Text()


sync_type("docs_schema", Address)  # CREATE TYPE


class Address(UserType):  # noqa: F811
    street = columns.Text()
    zipcode = columns.Text()


added = sync_type("docs_schema", Address)  # ALTER TYPE ... ADD zipcode
assert added.kinds() == ["alter_type_add_field"]


class Customer(Model):
    __table_name__ = "customers"
    customer_id = columns.Integer(primary_key=True)
    address = columns.UserDefinedType(Address)


sync_table(Customer)  # a model's types are synced with its table
Customer.create(customer_id=1, address=Address(street="1 Main St", zipcode="12345"))
assert Customer.get(customer_id=1).address.zipcode == "12345"
# -- end user types

# -- drop
drop_table(Customer)
drop_table(Customer)  # no table: nothing to do
assert get_table("docs_schema", "customers") is None
# -- end drop
print("ok")

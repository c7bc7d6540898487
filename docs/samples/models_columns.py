# --- connect
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
from ipaddress import ip_address

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table, sync_type
from cqlengine.models import Model
from cqlengine.usertype import UserType

connection.setup(["127.0.0.1"], default_keyspace="docs_models")
create_keyspace_simple("docs_models", replication_factor=1)
# --- types


class Address(UserType):
    street = columns.Text()
    zip_code = columns.Text()


class Everything(Model):
    __table_name__ = "everything"
    __options__ = {"comment": "one of each column type", "gc_grace_seconds": 86400}
    __default_ttl__ = None  # or seconds: the table's default_time_to_live

    id = columns.UUID(partition_key=True, default=uuid.uuid4)
    name = columns.Text(required=True, max_length=100)
    code = columns.Ascii()
    flag = columns.Boolean(default=False)
    small = columns.SmallInt()
    number = columns.Integer()
    big = columns.BigInt()
    huge = columns.VarInt()
    ratio = columns.Float()  # CQL float: 32 bits
    precise = columns.Double()
    money = columns.Decimal()
    at = columns.DateTime()
    day = columns.Date()
    clock = columns.Time()
    stamp = columns.TimeUUID(default=uuid.uuid1)
    address_ip = columns.Inet()
    raw = columns.Blob()
    tags = columns.Set(columns.Text)
    scores = columns.List(columns.Integer)
    attrs = columns.Map(columns.Text, columns.Integer)
    point = columns.Tuple(columns.Integer, columns.Integer)
    home = columns.UserDefinedType(Address)


sync_type("docs_models", Address)
sync_table(Everything)
# --- roundtrip
row = Everything.create(
    name="all", code="ascii", small=7, number=2 ** 31 - 1, big=2 ** 63 - 1, huge=2 ** 100,
    ratio=0.5, precise=0.1, money=Decimal("12.34"), at=datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc),
    day=date(2026, 5, 1), clock=time(12, 30), address_ip="10.0.0.1", raw=b"\x00\x01",
    tags={"a", "b"}, scores=[3, 1, 2], attrs={"x": 1}, point=(1, 2), home=Address(street="Main", zip_code="1"),
)
back = Everything.get(id=row.id)
assert back.huge == 2 ** 100 and back.money == Decimal("12.34") and back.flag is False
assert back.tags == {"a", "b"} and back.scores == [3, 1, 2] and back.attrs == {"x": 1} and back.point == (1, 2)
assert back.home.street == "Main"
for column in ("at", "day", "clock", "address_ip", "stamp"):
    print(f"{column:>10}: {type(getattr(back, column)).__name__} {getattr(back, column)!r}")
assert back.at == datetime(2026, 5, 1, 12, 30)  # naive UTC, as the driver reads timestamps
assert ip_address(back.address_ip) == ip_address("10.0.0.1")
# --- collections
Everything.objects(id=row.id).update(tags__add={"c"}, scores__append=[4], attrs={"y": 2})
back = Everything.get(id=row.id)
assert back.tags == {"a", "b", "c"} and back.scores == [3, 1, 2, 4]
assert back.attrs == {"x": 1, "y": 2}  # a map given without an operator is merged key by key
Everything.objects(id=row.id).update(attrs={"x": None}, tags__remove={"a"})  # None deletes its key
assert Everything.get(id=row.id).attrs == {"y": 2}
Everything.objects(id=row.id).update(attrs={}, scores=[9])  # {} empties a map; a list is replaced
back = Everything.get(id=row.id)
assert not back.attrs and back.scores == [9]

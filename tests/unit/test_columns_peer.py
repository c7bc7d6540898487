"""Columns, user types and model definitions behave as in the peer (cassandra.cqlengine), no server.

Where a test names the peer, it runs the same code against the peer's
modules too, so a change on either side shows up here.
"""
from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import pytest
from cassandra import util as cutil
from cassandra.cqlengine import ValidationError as PeerValidationError
from cassandra.cqlengine import columns as peer_columns
from cassandra.cqlengine import models as peer_models
from cassandra.cqlengine import usertype as peer_usertype

from cqlengine import columns, models, usertype
from cqlengine.exceptions import ModelDefinitionException, ValidationError
from cqlengine.management.plan import table_spec

warnings.filterwarnings("ignore", module="cassandra.cqlengine")

BOTH = pytest.mark.parametrize("cols, mods, ut", [
    pytest.param(columns, models, usertype, id="ours"),
    pytest.param(peer_columns, peer_models, peer_usertype, id="peer"),
])


def bound(col: columns.Column, model: str = "Person", attr: str = "field") -> columns.Column:
    col.set_name(model, attr)
    return col


# ---------------------------------------------------------------------------
# 1. DateTime takes int/float seconds since the epoch


class TestDateTimeEpochNumbers:
    def test_int_and_float_are_seconds_since_the_epoch(self):
        col = bound(columns.DateTime(), "Event", "at")
        assert col.validate(1_700_000_000) == dt.datetime(2023, 11, 14, 22, 13, 20)
        assert col.validate(1_700_000_000.5) == dt.datetime(2023, 11, 14, 22, 13, 20, 500000)
        assert col.validate(-1.5) == dt.datetime(1969, 12, 31, 23, 59, 58, 500000)
        assert col.validate(0) == dt.datetime(1970, 1, 1)

    def test_same_datetime_as_the_peer_reads_a_number(self):
        # The peer turns a number given to a model into a datetime through to_python: seconds.
        for value in (0, 1_700_000_000, 1_700_000_000.25, -86_400.5):
            assert columns.DateTime().validate(value) == peer_columns.DateTime().to_python(value)

    def test_to_database_reads_numbers_as_seconds_too(self):
        # It used to hand numbers to the driver, which takes them as milliseconds.
        col = columns.DateTime()
        assert col.to_database(1_700_000_000) == dt.datetime(2023, 11, 14, 22, 13, 20)
        assert col.to_database(1.0015) == dt.datetime(1970, 1, 1, 0, 0, 1, 1000)  # milliseconds kept

    def test_truncate_microseconds_applies_to_numbers(self):
        col = columns.DateTime(truncate_microseconds=True)
        assert col.validate(1.000999) == dt.datetime(1970, 1, 1, 0, 0, 1)

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**12, -(10**12)])
    def test_out_of_range_numbers_are_refused(self, value):
        col = bound(columns.DateTime(), "Event", "at")
        with pytest.raises(ValidationError, match=r"Event\.at: .* out of range for timestamp") as info:
            col.validate(value)
        assert isinstance(info.value, ValueError)

    def test_bool_is_not_a_timestamp(self):
        with pytest.raises(ValidationError, match="is not a datetime"):
            columns.DateTime().validate(True)


# ---------------------------------------------------------------------------
# 2. Text and Ascii take a bytearray


class TestTextBytearray:
    def test_text_decodes_utf8(self):
        assert columns.Text().validate(bytearray("hé".encode())) == "hé"

    def test_ascii_decodes_ascii(self):
        assert columns.Ascii().validate(bytearray(b"ab")) == "ab"

    @BOTH
    def test_accepted_as_by_the_peer(self, cols, mods, ut):
        assert cols.Text().validate(bytearray(b"ab")) is not None
        assert cols.Ascii().validate(bytearray(b"ab")) is not None

    @BOTH
    def test_bytes_are_refused_as_by_the_peer(self, cols, mods, ut):
        with pytest.raises((ValidationError, PeerValidationError)):
            cols.Text().validate(b"ab")

    def test_non_ascii_bytearray_refused_by_ascii(self):
        col = bound(columns.Ascii(), "Person", "code")
        with pytest.raises(ValidationError, match=r"Person\.code: bytearray\(b'\\xff'\) is not ascii text"):
            col.validate(bytearray(b"\xff"))
        with pytest.raises(PeerValidationError):
            peer_columns.Ascii().validate(bytearray(b"\xff"))

    def test_invalid_utf8_refused(self):
        with pytest.raises(ValidationError, match="is not utf-8 text"):
            columns.Text().validate(bytearray(b"\xff"))

    def test_lengths_count_decoded_characters(self):
        col = columns.Text(min_length=2, max_length=2)
        assert col.validate(bytearray("hé".encode())) == "hé"  # 3 bytes, 2 characters


# ---------------------------------------------------------------------------
# 3. Text(min_length=N) refuses None


class TestTextMinLengthNone:
    @BOTH
    def test_min_length_refuses_none(self, cols, mods, ut):
        with pytest.raises((ValidationError, PeerValidationError), match="shorter than"):
            cols.Text(min_length=2).validate(None)

    @BOTH
    def test_zero_min_length_and_max_length_allow_none(self, cols, mods, ut):
        assert cols.Text(min_length=0).validate(None) is None
        assert cols.Text(max_length=3).validate(None) is None
        assert cols.Text().validate(None) is None

    @BOTH
    def test_required_with_zero_min_length_allows_empty(self, cols, mods, ut):
        assert cols.Text(required=True, min_length=0).validate("") == ""
        with pytest.raises((ValidationError, PeerValidationError)):
            cols.Text(required=True, min_length=0).validate(None)

    @BOTH
    def test_required_implies_min_length_one(self, cols, mods, ut):
        assert cols.Text(required=True).min_length == 1
        assert cols.Text(required=True, max_length=5).min_length == 1
        with pytest.raises((ValidationError, PeerValidationError)):
            cols.Text(required=True).validate("")

    def test_message_names_the_column_and_the_rule(self):
        col = bound(columns.Text(min_length=3), "Person", "nick")
        with pytest.raises(ValidationError, match=r"Person\.nick: None is shorter than min_length 3"):
            col.validate(None)
        required = bound(columns.Text(required=True, max_length=5), "Person", "name")
        with pytest.raises(ValidationError, match=r"Person\.name: required, got None"):
            required.validate(None)

    def test_model_with_unset_min_length_column_is_refused(self):
        class Nick(models.Model):
            __table_name__ = "peer_nick"
            id = columns.Integer(primary_key=True)
            nick = columns.Text(min_length=1)

        with pytest.raises(ValidationError, match=r"Nick\.nick: None is shorter"):
            Nick(id=1).validate()

    def test_user_type_field(self):
        class Tag(usertype.UserType):
            label = columns.Text(min_length=1)

        with pytest.raises(ValidationError, match=r"Tag\.label: None is shorter"):
            Tag().validate()


# ---------------------------------------------------------------------------
# 4. Tuple arity


class TestTupleArity:
    def test_fewer_values_are_padded_with_none(self):
        col = columns.Tuple(columns.Integer, columns.Text, columns.Integer)
        assert col.validate((1,)) == (1, None, None)
        assert col.validate([1, "a"]) == (1, "a", None)
        assert col.to_database((1,)) == (1, None, None)

    def test_empty_is_null(self):
        col = columns.Tuple(columns.Integer, columns.Text)
        assert col.validate(()) is None
        with pytest.raises(ValidationError, match="required"):
            bound(columns.Tuple(columns.Integer, required=True)).validate(())

    @BOTH
    def test_more_values_are_refused_as_by_the_peer(self, cols, mods, ut):
        with pytest.raises(TypeError):
            cols.Tuple(cols.Integer, cols.Text).validate((1, "a", 3))

    def test_more_values_message(self):
        col = bound(columns.Tuple(columns.Integer, columns.Text), "Person", "pair")
        with pytest.raises(ValidationError, match=r"Person\.pair: \(1, 'a', 3\) has 3 elements, more than the 2"):
            col.validate((1, "a", 3))

    def test_padded_elements_still_validated(self):
        col = bound(columns.Tuple(columns.Integer, columns.Text), "Person", "pair")
        with pytest.raises(ValidationError, match=r"Person\.pair\[0\]"):
            col.validate(("x",))


# ---------------------------------------------------------------------------
# 5. A UDT column is frozen by default


class Address(usertype.UserType):
    __type_name__ = "peer_address"
    street = columns.Text()
    zipcode = columns.Integer()


class Bag(usertype.UserType):
    __type_name__ = "peer_bag"
    tags = columns.Set(columns.Text)
    nums = columns.List(columns.Integer)


class TestUdtFrozenByDefault:
    def test_cql_type(self):
        assert columns.UserDefinedType(Address).cql_type() == "frozen<peer_address>"
        assert columns.UserDefinedType(Address, frozen=False).cql_type() == "peer_address"
        assert columns.UserDefinedType(Bag).cql_type() == "frozen<peer_bag>"
        assert columns.UserDefinedType(Bag, frozen=False).cql_type() == "frozen<peer_bag>"

    def test_same_type_as_the_peer_renders(self):
        class PeerAddress(peer_usertype.UserType):
            __type_name__ = "peer_address"
            street = peer_columns.Text()
            zipcode = peer_columns.Integer()

        assert columns.UserDefinedType(Address).cql_type() == peer_columns.UserDefinedType(PeerAddress).db_type

    def test_a_default_column_also_accepts_a_live_non_frozen_one(self):
        assert columns.UserDefinedType(Address).compatible_cql_types() == ["peer_address"]
        assert columns.UserDefinedType(Address, frozen=True).compatible_cql_types() == []
        assert columns.UserDefinedType(Address, frozen=False).compatible_cql_types() == []
        assert columns.UserDefinedType(Bag).compatible_cql_types() == []  # never non-frozen
        assert columns.UserDefinedType(Address, primary_key=True).compatible_cql_types() == []

    def test_table_spec_carries_the_accepted_spelling(self):
        class Home(models.Model):
            __table_name__ = "peer_home"
            id = columns.Integer(primary_key=True)
            home = columns.UserDefinedType(Address)

        spec = table_spec(Home).columns["home"]
        assert spec.type == "frozen<peer_address>" and spec.also_accepts == ("peer_address",)

    def test_indexable_by_default(self):
        class Indexed(models.Model):
            __table_name__ = "peer_indexed_home"
            id = columns.Integer(primary_key=True)
            home = columns.UserDefinedType(Address, index=True)

        assert Indexed._columns["home"].cql_type() == "frozen<peer_address>"
        with pytest.raises(ModelDefinitionException, match="non-frozen user type"):
            type("Unfrozen", (models.Model,), {
                "id": columns.Integer(primary_key=True),
                "home": columns.UserDefinedType(Address, frozen=False, index=True),
            })


# ---------------------------------------------------------------------------
# 8. UserType.field.column


class TestUserTypeFieldColumn:
    @BOTH
    def test_field_column(self, cols, mods, ut):
        class User(ut.UserType):
            age = cols.Integer()

        assert isinstance(User.age.column, cols.Integer)
        assert User.age.column is User._fields["age"]

    def test_class_attribute_is_still_the_column(self):
        assert Address.street is Address._fields["street"] is Address.street.column

    def test_model_column(self):
        class Person(models.Model):
            __table_name__ = "peer_person_col"
            id = columns.Integer(primary_key=True)

        assert Person.id.column is Person._columns["id"]


# ---------------------------------------------------------------------------
# 9. Column order


def _orders(cols, mods, ut):
    shared = cols.Text()  # created before the model's own columns

    class A(mods.Model):
        __abstract__ = True
        a1 = cols.Integer(primary_key=True)
        a2 = cols.Text()

    class B(mods.Model):
        __abstract__ = True
        b1 = cols.Integer(primary_key=True)
        b2 = cols.Text()
        a2 = cols.Integer()

    class C(A, B):
        __table_name__ = "peer_order_c"
        c1 = cols.Text()
        a2 = cols.Text()  # overrides: keeps the inherited place
        z = shared

    class D(B, A):
        __table_name__ = "peer_order_d"
        d = cols.Text()

    class E(mods.Model):
        __table_name__ = "peer_order_e"
        k = cols.Integer(primary_key=True); c = cols.Integer(primary_key=True)  # noqa: E702
        b = cols.Integer(primary_key=True)
        a = cols.Text()

    class U(ut.UserType):
        x = cols.Text()
        y = cols.Integer(); w = shared  # noqa: E702

    return {
        "C": (list(C._columns), list(C._partition_keys), list(C._clustering_keys)),
        "D": (list(D._columns), list(D._partition_keys), list(D._clustering_keys)),
        "E": (list(E._columns), list(E._partition_keys), list(E._clustering_keys)),
        "U": list(U._fields),
    }


class TestColumnOrder:
    def test_matches_the_peer(self):
        assert _orders(columns, models, usertype) == _orders(peer_columns, peer_models, peer_usertype)

    def test_multiple_inheritance_follows_the_bases_order(self):
        got = _orders(columns, models, usertype)
        # Each abstract base made its first key a partition key: the bases' order orders them.
        assert got["C"] == (["a1", "a2", "b1", "b2", "z", "c1"], ["a1", "b1"], [])
        assert got["D"] == (["b1", "b2", "a2", "a1", "d"], ["b1", "a1"], [])
        assert got["E"] == (["k", "c", "b", "a"], ["k"], ["c", "b"])
        assert got["U"] == ["w", "x", "y"]  # creation order, not assignment order, as the peer

    def test_first_base_gives_the_column(self):
        class A(models.Model):
            __abstract__ = True
            k = columns.Integer(primary_key=True)
            v = columns.Text()

        class B(models.Model):
            __abstract__ = True
            v = columns.Integer()

        class C(A, B):
            __table_name__ = "peer_first_base"

        assert isinstance(C._columns["v"], columns.Text)

    def test_user_type_inheritance_follows_the_bases_order(self):
        class P(usertype.UserType):
            p = columns.Text()

        class Q(usertype.UserType):
            q = columns.Text()
            p = columns.Integer()

        class R(P, Q):
            r = columns.Text()

        assert list(R._fields) == ["p", "q", "r"]
        assert isinstance(R._fields["p"], columns.Text)


# ---------------------------------------------------------------------------
# 10. Exception classes: also what the peer raises


class TestExceptionClassesAlsoThePeers:
    @pytest.mark.parametrize("make, peer_error", [
        (lambda c: c.Text(min_length=-1), ValueError),
        (lambda c: c.Text(max_length=-1), ValueError),
        (lambda c: c.Text(min_length=3, max_length=1), ValueError),
        (lambda c: c.Tuple(), ValueError),
        (lambda c: c.List(int), PeerValidationError),
        (lambda c: c.List(c.Column), PeerValidationError),
        (lambda c: c.Set(c.List(c.Integer)), PeerValidationError),
        (lambda c: c.Map(c.Map(c.Text, c.Text), c.Integer), PeerValidationError),
    ])
    def test_definition(self, make, peer_error):
        with pytest.raises(peer_error):
            make(peer_columns)
        ours_error = ValidationError if peer_error is PeerValidationError else peer_error
        with pytest.raises(ModelDefinitionException) as info:
            make(columns)
        assert isinstance(info.value, ours_error)

    @pytest.mark.parametrize("make, value, peer_errors", [
        (lambda c: c.Tuple(c.Integer, c.Text), (1, "a", 3), (TypeError,)),
        (lambda c: c.Tuple(c.Integer), 5, (TypeError,)),
        (lambda c: c.List(c.Integer), 5, (TypeError,)),
        (lambda c: c.Set(c.Integer), 5, (TypeError,)),
        (lambda c: c.Map(c.Text, c.Integer), 5, (TypeError,)),
        (lambda c: c.Duration(), 5, (TypeError,)),
        (lambda c: c.Decimal(), object(), (TypeError,)),
        (lambda c: c.Decimal(), [1], (ValueError,)),
    ])
    def test_validate(self, make, value, peer_errors):
        for error in peer_errors:
            with pytest.raises(error):
                make(peer_columns).validate(value)
            with pytest.raises(ValidationError) as info:
                make(columns).validate(value)
            assert isinstance(info.value, error)

    @pytest.mark.parametrize("make, value, peer_error", [
        # Peer: the value passes validate() and fails in to_database() or, given to the model's
        # constructor, in to_python().
        (lambda c: c.Date(), "x", ValueError),
        (lambda c: c.Date(), object(), TypeError),
        (lambda c: c.Time(), "x", ValueError),
        (lambda c: c.Time(), object(), TypeError),
        (lambda c: c.Time(), 10**15, ValueError),
    ])
    def test_to_database(self, make, value, peer_error):
        with pytest.raises(peer_error):
            make(peer_columns).to_database(make(peer_columns).validate(value))
        with pytest.raises(ValidationError) as info:
            make(columns).validate(value)
        assert isinstance(info.value, peer_error)

    @pytest.mark.parametrize("make, value, peer_error", [
        (lambda c: c.DateTime(), "x", TypeError),
        (lambda c: c.List(c.Integer), 5, TypeError),
        (lambda c: c.Set(c.Integer), 5, TypeError),
        (lambda c: c.Tuple(c.Integer), 5, TypeError),
        (lambda c: c.Map(c.Text, c.Integer), 5, AttributeError),
        (lambda c: c.Map(c.Text, c.Integer), [1], AttributeError),
    ])
    def test_to_python_on_construction(self, make, value, peer_error):
        with pytest.raises(peer_error):
            make(peer_columns).to_python(value)
        with pytest.raises(ValidationError) as info:
            make(columns).validate(value)
        assert isinstance(info.value, peer_error)

    def test_user_type_value_of_the_wrong_kind(self):
        class PeerSpot(peer_usertype.UserType):
            x = peer_columns.Integer()

        with pytest.raises(AttributeError):
            peer_columns.UserDefinedType(PeerSpot).validate(5)
        with pytest.raises(ValidationError) as info:
            bound(columns.UserDefinedType(Address), "Person", "home").validate(5)
        assert isinstance(info.value, AttributeError) and isinstance(info.value, TypeError)
        assert str(info.value).startswith("Person.home: 5 is not an instance of Address")

    def test_datetime_of_the_wrong_kind_is_also_the_peers_validation_path(self):
        # On assignment the peer refuses in to_database() with its ValidationError: ours is one too.
        with pytest.raises(PeerValidationError):
            peer_columns.DateTime().to_database("x")
        with pytest.raises(ValidationError):
            columns.DateTime().validate("x")

    def test_decimal_and_date_values_still_accepted(self):
        assert columns.Decimal().validate("1.5") == Decimal("1.5")
        assert columns.Date().validate(dt.date(2020, 1, 2)) == dt.date(2020, 1, 2)
        assert columns.Time().validate(cutil.Time(5)) == cutil.Time(5)


class TestPlanComparesUdtColumns:
    @staticmethod
    def _plan(live_type: str, **udt_options):
        from cqlengine.management.introspect import ColumnInfo, TableInfo, UserTypeInfo
        from cqlengine.management.plan import plan_table

        class Home(models.Model):
            __table_name__ = "peer_plan_home"
            id = columns.Integer(primary_key=True)
            home = columns.UserDefinedType(Address, **udt_options)

        live = TableInfo("ks", "peer_plan_home", columns={
            "id": ColumnInfo("id", "int", "partition_key", 0),
            "home": ColumnInfo("home", live_type),
        })
        types = {"peer_address": UserTypeInfo("ks", "peer_address", ("street", "zipcode"), ("text", "int"))}
        return plan_table("ks", table_spec(Home), live, types)

    def test_default_is_in_sync_with_a_table_created_before_it_was_frozen(self):
        plan = self._plan("peer_address")
        assert not plan and not plan.conflicts

    def test_default_is_in_sync_with_a_frozen_column(self):
        plan = self._plan("frozen<peer_address>")
        assert not plan and not plan.conflicts

    def test_explicit_frozen_differs_from_a_non_frozen_column(self):
        plan = self._plan("peer_address", frozen=True)
        assert [(c.column, c.problem) for c in plan.conflicts] == [("column home", "type differs")]

    def test_explicit_non_frozen_differs_from_a_frozen_column(self):
        plan = self._plan("frozen<peer_address>", frozen=False)
        assert [(c.column, c.problem) for c in plan.conflicts] == [("column home", "type differs")]

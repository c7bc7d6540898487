"""Unit tests for cqlengine.usertype (no server)."""
from __future__ import annotations

import copy

import pytest

from cqlengine import columns
from cqlengine.exceptions import ModelDefinitionException, ValidationError
from cqlengine.usertype import UserType


class HomeAddress(UserType):
    street = columns.Text(required=True)
    city = columns.Text(max_length=10)
    zipcode = columns.Integer(db_field="zip")
    country = columns.Text(default="NL")


class Money(UserType):
    __type_name__ = "Currency_Amount"
    __keyspace__ = "billing"
    amount = columns.Decimal()
    currency = columns.Ascii()


class TestDefinition:
    def test_fields_in_declaration_order(self):
        assert list(HomeAddress._fields) == ["street", "city", "zipcode", "country"]
        col = HomeAddress._fields["zipcode"]
        assert (col.model_name, col.attr_name, col.db_field_name) == ("HomeAddress", "zipcode", "zip")

    def test_class_attribute_is_the_column(self):
        assert HomeAddress.street is HomeAddress._fields["street"]

    def test_type_name(self):
        assert HomeAddress.type_name() == "home_address"
        assert Money.type_name() == "currency_amount"
        assert Money.__keyspace__ == "billing" and HomeAddress.__keyspace__ is None

    def test_type_name_peer_rule(self):
        class HTTPInfo(UserType):
            a = columns.Integer()

        class Address2Type(UserType):
            a = columns.Integer()

        assert HTTPInfo.type_name() == "httpinfo"
        assert Address2Type.type_name() == "address2type"

    def test_type_name_not_inherited_from_explicit(self):
        class Sub(Money):
            note = columns.Text()

        assert Sub.type_name() == "sub"
        assert list(Sub._fields) == ["amount", "currency", "note"]
        assert Sub._fields["amount"] is not Money._fields["amount"]
        assert Sub._fields["amount"].model_name == "Sub"
        assert Money._fields["amount"].model_name == "Money"

    def test_reserved_field_names(self):
        with pytest.raises(ModelDefinitionException, match="keys"):
            class Bad(UserType):
                keys = columns.Text()

        with pytest.raises(ModelDefinitionException, match="validate"):
            class Bad2(UserType):
                validate = columns.Text()

    def test_counter_field_refused(self):
        with pytest.raises(ModelDefinitionException, match="counter"):
            class Bad(UserType):
                hits = columns.Counter()

    def test_native_type_name_refused(self):
        with pytest.raises(ModelDefinitionException, match="native"):
            class Text(UserType):
                a = columns.Integer()

    def test_duplicate_db_field_refused(self):
        with pytest.raises(ModelDefinitionException, match="'a'"):
            class Dup(UserType):
                a = columns.Integer()
                b = columns.Integer(db_field="a")

    def test_nested_udt_field_is_frozen(self):
        class Outer(UserType):
            home = columns.UserDefinedType(HomeAddress)

        assert Outer._fields["home"].frozen
        assert Outer._fields["home"].cql_type() == "frozen<home_address>"


class TestInstances:
    def test_init_and_attributes(self):
        a = HomeAddress(street="Main", city="Delft", zipcode=2611)
        assert a.street == "Main" and a.city == "Delft" and a.zipcode == 2611
        assert a.country == "NL"  # default
        a.city = "Leiden"
        assert a.city == "Leiden"

    def test_init_by_db_field(self):
        assert HomeAddress(zip=1).zipcode == 1

    def test_unknown_keyword(self):
        with pytest.raises(ValidationError) as info:
            HomeAddress(street="x", planet="Mars")
        msg = str(info.value)
        assert "HomeAddress" in msg and "'planet'" in msg

    def test_missing_fields_are_none(self):
        a = HomeAddress()
        assert a.street is None and a.zipcode is None

    def test_callable_default_per_instance(self):
        class Bag(UserType):
            things = columns.List(columns.Text)

        a, b = Bag(), Bag()
        assert a.things == [] and a.things is not b.things

    def test_equality(self):
        assert HomeAddress(street="a") == HomeAddress(street="a")
        assert HomeAddress(street="a") != HomeAddress(street="b")

        class Other(UserType):
            street = columns.Text()
            city = columns.Text(max_length=10)
            zipcode = columns.Integer(db_field="zip")
            country = columns.Text(default="NL")

        assert HomeAddress(street="a") != Other(street="a")
        assert HomeAddress(street="a") != ("a", None, None, "NL")

    def test_not_hashable(self):
        with pytest.raises(TypeError):
            hash(HomeAddress())

    def test_repr(self):
        text = repr(HomeAddress(street="Main", zipcode=1))
        assert text == "HomeAddress(street='Main', city=None, zipcode=1, country='NL')"

    def test_mapping_access(self):
        a = HomeAddress(street="Main", zipcode=1)
        assert a["street"] == "Main" and a["zip"] == 1 and a["zipcode"] == 1
        a["city"] = "Delft"
        assert a.city == "Delft"
        assert a.keys() == ["street", "city", "zipcode", "country"]
        assert a.values() == ["Main", "Delft", 1, "NL"]
        assert a.items()[0] == ("street", "Main")
        assert list(a) == a.keys() and len(a) == 4
        assert "street" in a and "planet" not in a
        assert dict(a.items())["country"] == "NL"
        with pytest.raises(KeyError):
            a["planet"]
        with pytest.raises(KeyError):
            a["planet"] = 1

    def test_copy(self):
        a = HomeAddress(street="Main")
        b = copy.deepcopy(a)
        assert a == b and a is not b
        b.street = "x"
        assert a.street == "Main"


class TestValidate:
    def test_valid(self):
        a = HomeAddress(street="Main", zipcode=1)
        a.validate()
        assert a.street == "Main"

    def test_cleans_in_place(self):
        m = Money(amount="1.50", currency="EUR")
        m.validate()
        from decimal import Decimal

        assert m.amount == Decimal("1.50")

    def test_errors_name_type_and_field(self):
        with pytest.raises(ValidationError) as info:
            HomeAddress(street="Main", zipcode="x").validate()
        assert str(info.value) == "HomeAddress.zipcode: 'x' is not an integer (int needs an int)"

        with pytest.raises(ValidationError) as info:
            HomeAddress(street="Main", city="A very long city").validate()
        assert "HomeAddress.city" in str(info.value) and "max_length 10" in str(info.value)

    def test_required_field(self):
        with pytest.raises(ValidationError) as info:
            HomeAddress(city="x").validate()
        assert str(info.value) == "HomeAddress.street: required, got None"

    def test_non_ascii(self):
        with pytest.raises(ValidationError, match="Money.currency"):
            Money(currency="€").validate()

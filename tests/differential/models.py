"""The models of the oracle, written once and declared in both mappers.

``declare(mapper)`` builds them against one mapper's modules (``mapper.columns``,
``mapper.Model``, ``mapper.UserType``), as a porting user writes them, each in a
table of its own (the mapper's name is part of the table name), and syncs them.
Both mappers' classes carry the same class names, so instances compare by name.
"""
from __future__ import annotations

import time
import warnings
from typing import Any

from tests.integration.conftest import Mapper


def declare(mapper: Mapper) -> dict[str, Any]:
    """The oracle's models for ``mapper``, keyed by label, their tables and types created."""
    c = mapper.columns
    keyspace = mapper.keyspace

    class Info(mapper.UserType):
        __type_name__ = mapper.table_name("dt_info")
        name = c.Text()
        tags = c.Set(c.Integer)

    class Row(mapper.Model):
        """Partition + clustering key, a static column, a default, the three collections."""
        __table_name__ = mapper.table_name("dt_row")
        __keyspace__ = keyspace
        p = c.Integer(partition_key=True)
        ck = c.Integer(primary_key=True)
        s = c.Integer(static=True)
        v = c.Text()
        d = c.Integer(default=42)
        li = c.List(c.Integer)
        st = c.Set(c.Integer)
        mp = c.Map(c.Text, c.Integer)

    class Nest(mapper.Model):
        """Nested (frozen) collections, a tuple, a required column, a date."""
        __table_name__ = mapper.table_name("dt_nest")
        __keyspace__ = keyspace
        k = c.Integer(primary_key=True)
        r = c.Text(required=True)
        ms = c.Map(c.Text, c.Set(c.Integer))
        ls = c.List(c.Set(c.Integer))
        tp = c.Tuple(c.Integer, c.Text)
        dt = c.Date()

    class Holder(mapper.Model):
        """A user type holding a set, alone and in a list."""
        __table_name__ = mapper.table_name("dt_holder")
        __keyspace__ = keyspace
        k = c.Integer(primary_key=True)
        info = c.UserDefinedType(Info)
        infos = c.List(c.UserDefinedType(Info))

    class Tally(mapper.Model):
        __table_name__ = mapper.table_name("dt_tally")
        __keyspace__ = keyspace
        k = c.Integer(primary_key=True)
        c1 = c.Counter()
        c2 = c.Counter()

    class Animal(mapper.Model):
        """A polymorphic family: the base, two subclasses in its table."""
        __table_name__ = mapper.table_name("dt_animal")
        __keyspace__ = keyspace
        p = c.Integer(partition_key=True)
        n = c.Integer(primary_key=True)
        kind = c.Text(discriminator_column=True)
        name = c.Text()

    class Dog(Animal):
        __discriminator_value__ = "dog"
        bark = c.Integer()

    class Cat(Animal):
        __discriminator_value__ = "cat"
        lives = c.Integer(default=9)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peer warns about CQLENG_ALLOW_SCHEMA_MANAGEMENT
        for model in (Row, Nest, Holder, Tally, Animal, Dog, Cat):
            _sync(mapper, model)
    return {"row": Row, "nest": Nest, "holder": Holder, "tally": Tally,
            "animal": Animal, "dog": Dog, "cat": Cat, "Info": Info}


def _sync(mapper: Mapper, model: Any, attempts: int = 4) -> None:
    """``sync_table``, tried again while the driver's schema metadata lags behind the node.

    Other sessions' DDL on the same node (tests making and dropping keyspaces) makes the
    driver refresh its metadata; right after, either mapper may not find the keyspace
    or the table it has just made. What is tested here is not the DDL.
    """
    for attempt in range(attempts):
        try:
            mapper.management.sync_table(model)
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)

"""Models: subclass :class:`Model` and declare columns as class attributes.

The table definition is read by :class:`cqlengine.definition.ModelMetaClass`;
instance state and writes are :class:`cqlengine.mapped.MappedModel`'s; this
module adds what finds rows: ``Model.objects`` (a
:class:`cqlengine.query.ModelQuerySet`), ``get``, ``filter`` and ``create``.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Optional, TypeVar, overload

if sys.version_info >= (3, 11):
    from typing import ParamSpec, dataclass_transform
elif sys.version_info >= (3, 10):
    from typing import ParamSpec

    from typing_extensions import dataclass_transform
else:
    from typing_extensions import ParamSpec, dataclass_transform

from cqlengine.definition import ModelMetaClass

if TYPE_CHECKING:
    from pydantic import BaseModel
from cqlengine.exceptions import ModelDefinitionException, ModelException, PolymorphicModelException, ValidationError
from cqlengine.instance_options import hybrid
from cqlengine.mapped import MappedModel, WriteHook
from cqlengine.query import ModelQuerySet, QuerySet
from cqlengine.writes import (
    OptionIgnoredInBatch,
    TimeoutWithBatch,
    Timestamp,
    WriteOptions,
    check_applied,
    check_ttl,
    normalize_timestamp,
    split_map_nulls,
)

__all__ = [
    "Model",
    "TypedModel",
    "ModelException",
    "ModelDefinitionException",
    "OptionIgnoredInBatch",
    "PolymorphicModelException",
    "TimeoutWithBatch",
    "ValidationError",
    "normalize_timestamp",
]

# Names other modules and the peer's users import from here, defined where they belong.
_REEXPORTED = (ModelMetaClass, MappedModel, WriteHook, hybrid, Timestamp, WriteOptions, check_applied, check_ttl,
               split_map_nulls)

M = TypeVar("M", bound="Model")
P = ParamSpec("P")



class Model(MappedModel):
    """Base class of every model: subclass it and declare columns as class attributes.

    The table is described by these class attributes (all optional):

    ``__table_name__``
        The table's name. Default: the class name in snake case
        (``BlogPost`` -> ``blog_post``, at most 48 characters), as the peer
        names it; lower-cased unless ``__table_name_case_sensitive__`` is True.
    ``__keyspace__``
        The keyspace; default: the connection's ``default_keyspace``.
    ``__connection__``
        The name of a connection made with
        :func:`cqlengine.connection.register_connection`; default: the default one.
    ``__options__``
        Table options ``sync_table`` sets with ``WITH``: a dict such as
        ``{"comment": "...", "gc_grace_seconds": 3600, "compaction": {"class":
        "LeveledCompactionStrategy"}}``; a later change is applied by ``ALTER TABLE``.
    ``__default_ttl__``
        The table's ``default_time_to_live`` in seconds.
    ``__abstract__``
        True: no table; the class only lends its columns to subclasses.
    ``__polymorphic_key__`` (or ``__discriminator_value__``)
        On a subclass of a model with a ``polymorphic_key`` (``discriminator_column``)
        column: the value that marks its rows; every subclass shares the base's table.

    Instances: ``Model(**values)`` builds one without writing;
    ``Model.create(**values)`` inserts it; ``save()``, ``update(**values)`` and
    ``delete()`` write; ``ttl()``, ``timestamp()``, ``consistency()``,
    ``timeout()``, ``if_not_exists()``, ``if_exists()`` and ``iff()`` set
    options of the next write (on the class, they start a queryset).
    ``Model.objects`` is the model's :class:`~cqlengine.query.ModelQuerySet`.
    """

    __abstract__ = True

    #: The queryset class ``objects`` makes (a subclass of :class:`~cqlengine.query.ModelQuerySet`).
    __queryset__: ClassVar[type[ModelQuerySet[Any]]] = ModelQuerySet
    #: ``Model.objects``: a new queryset over the model (see ``_ObjectsDescriptor``).
    objects: ClassVar[_ObjectsDescriptor]

    @classmethod
    def _queryset(cls) -> ModelQuerySet[Any]:
        return cls.__queryset__(cls)

    if TYPE_CHECKING:
        # ``cls: Callable[P, M]``: create() takes the keywords the model's constructor takes, so a type
        # checker flags an unknown column (pyright objects to the classmethod of such a function: ignored).
        @classmethod  # pyright: ignore[reportArgumentType]
        def create(cls: Callable[P, M], *args: P.args, **values: P.kwargs) -> M:
            """Validate, INSERT and return a new instance."""
            ...

        @classmethod  # pyright: ignore[reportArgumentType]
        async def acreate(cls: Callable[P, M], *args: P.args, **values: P.kwargs) -> M:
            """``create()`` without blocking the event loop."""
            ...
    else:
        @classmethod
        def create(cls, **values):
            """Validate, INSERT and return a new instance."""
            return cls.objects.create(**values)

        @classmethod
        async def acreate(cls, **values):
            """``create()`` without blocking the event loop."""
            return await cls.objects.acreate(**values)

    @classmethod
    def get(cls: type[M], *args: Any, **kwargs: Any) -> M:
        """The one row matching the filters: ``DoesNotExist`` or ``MultipleObjectsReturned`` otherwise."""
        return cls.objects.get(*args, **kwargs)

    @classmethod
    async def aget(cls: type[M], *args: Any, **kwargs: Any) -> M:
        """``get()`` without blocking the event loop (the class-level twin of ``objects.aget``)."""
        return await cls.objects.aget(*args, **kwargs)

    @classmethod
    def filter(cls: type[M], *args: Any, **kwargs: Any) -> QuerySet[M]:
        return cls.objects.filter(*args, **kwargs)

    @classmethod
    def all(cls: type[M]) -> QuerySet[M]:
        return cls.objects.all()

    # -- Pydantic (the ``pydantic`` extra; imported on first use) --------------------------------

    @classmethod
    def pydantic(cls, name: Optional[str] = None, exclude: Iterable[str] = ()) -> type[BaseModel]:
        """A Pydantic model of this model's columns, less ``exclude`` (see :mod:`cqlengine.pydantic_models`)."""
        from cqlengine import pydantic_models

        return pydantic_models.model_for(cls, name, tuple(exclude))

    def to_pydantic(self, model: Optional[type[BaseModel]] = None) -> BaseModel:
        """This instance as an instance of ``model`` (default: ``pydantic()``)."""
        from cqlengine import pydantic_models

        return pydantic_models.to_pydantic(self, model)

    @classmethod
    def from_pydantic(cls: type[M], obj: Any) -> M:
        """A new instance (not saved) from a Pydantic instance, or a mapping, of this model's columns."""
        from cqlengine import pydantic_models

        return pydantic_models.from_pydantic(cls, obj)  # type: ignore[no-any-return]


@dataclass_transform(kw_only_default=True)
class TypedModel(Model):
    """A model whose keywords type checkers check: its annotated columns (PEP 681).

    ``Event(seq=1)`` and ``Event.create(seq=1)`` are checked against the
    columns declared with an annotation naming their column type::

        class Event(TypedModel):
            source: columns.Text[Literal[True]] = columns.Text(partition_key=True)
            note: columns.Text[Literal[False]] = columns.Text()

    (``Literal[True]``: the column always holds a value, as a key or a
    ``required`` column does; it then reads as ``str``, else as
    ``Optional[str]``). At run time it is a :class:`Model` like any other.

    Why a base of its own: checkers that honour ``dataclass_transform`` build a
    model's constructor from its annotated columns only, so on a plain
    ``Model`` whose columns carry no annotation (the peer's style) pyright
    would refuse every keyword. A plain ``Model`` keeps accepting any keyword;
    reading its fields is typed all the same.

    ``Event.get(...)`` and ``Event.aget(...)`` take the same keywords as the
    constructor, checked the same way (a misspelt or mistyped key is flagged);
    a filter with an operator or an expression goes through
    ``Event.objects.get(...)``, which takes any. A missing key cannot be
    flagged: every keyword of the constructor is optional to a checker.
    """

    __abstract__ = True

    if TYPE_CHECKING:
        @classmethod  # type: ignore[override]  # pyright: ignore[reportArgumentType]
        def get(cls: Callable[P, M], *args: P.args, **kwargs: P.kwargs) -> M:
            """The one row matching the keys (see :meth:`Model.get`)."""
            ...

        @classmethod  # type: ignore[override]  # pyright: ignore[reportArgumentType]
        async def aget(cls: Callable[P, M], *args: P.args, **kwargs: P.kwargs) -> M:
            """``get()`` without blocking the event loop."""
            ...


class _ObjectsDescriptor:
    """``Model.objects``: a fresh queryset of the model on every access."""

    @overload
    def __get__(self, instance: None, owner: type[M]) -> ModelQuerySet[M]: ...
    @overload
    def __get__(self, instance: Model, owner: type[M]) -> Any: ...
    def __get__(self, instance: Any, owner: type[Model]) -> Any:
        if instance is not None:
            raise AttributeError("objects is reachable from the model class, not from instances")
        owner._check_concrete("query")
        return owner._queryset()


Model.objects = _ObjectsDescriptor()

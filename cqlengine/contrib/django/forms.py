"""``model_form(Model)``: a Django form of a model's columns, as ``ModelForm`` is of a Django model's fields::

    NoteForm = model_form(Note, fields=["title", "body"])
    form = NoteForm(request.POST)
    if form.is_valid():
        note = form.instance(owner=request.user.id)   # a new Note with the cleaned data (not saved)
        note.save()

Scalar columns become the matching form fields (``Text`` a ``CharField`` with its lengths, the integer
types an ``IntegerField`` with their ranges, ``UUID``, ``DateTime``, ``Date``, ``Time``, ``Boolean``,
``Decimal``, ``Float``/``Double``); required when the column is a key or ``required=True``. Collections,
user types, tuples, vectors, blobs and durations have no form field: leave them out (``fields=`` or
``exclude=``), or add fields of your own. ``instance()`` also runs the model's ``validate()``, whose
errors are added to the form's.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from django import forms

from cqlengine import columns
from cqlengine.exceptions import ValidationError
from cqlengine.models import Model

__all__ = ["model_form"]


#: Columns whose form field takes nothing but ``required``.
_PLAIN: tuple[tuple[type, type[forms.Field]], ...] = (
    (columns.VarInt, forms.IntegerField), (columns.Decimal, forms.DecimalField), (columns.Float, forms.FloatField),
    (columns.UUID, forms.UUIDField), (columns.DateTime, forms.DateTimeField), (columns.Date, forms.DateField),
    (columns.Time, forms.TimeField), (columns.Inet, forms.GenericIPAddressField),
)


def _form_field(col: columns.Column) -> forms.Field:
    required = bool(col.primary_key or col.required)
    if isinstance(col, columns.Boolean):
        return forms.BooleanField(required=False)  # an unticked box is False, not missing
    if isinstance(col, columns.Text):
        return forms.CharField(required=required, min_length=col.min_length or None, max_length=col.max_length,
                               strip=False)
    if isinstance(col, columns.Integer):
        return forms.IntegerField(required=required, min_value=col.min_value, max_value=col.max_value)
    for kind, field in _PLAIN:
        if isinstance(col, kind):
            return field(required=required)
    raise TypeError(f"{col.model_name}.{col.attr_name} ({col.cql_type()}) has no form field: leave it out")


def model_form(model: type[Model], fields: Optional[Iterable[str]] = None,
               exclude: Iterable[str] = ()) -> type[forms.Form]:
    """A ``forms.Form`` subclass with a field per column of ``model`` (those in ``fields``, less ``exclude``),
    whose ``instance(**more)`` gives a new ``model`` instance from the cleaned data and ``more``."""
    names = list(model._columns) if fields is None else list(fields)
    unknown = [n for n in [*names, *exclude] if n not in model._columns]
    if unknown:
        raise TypeError(f"model_form({model.__name__}): no column {', '.join(map(repr, unknown))}")
    attrs: dict[str, Any] = {n: _form_field(model._columns[n]) for n in names if n not in set(exclude)}

    def instance(self: forms.Form, **more: Any) -> Model:
        if not self.is_valid():
            raise ValueError(f"{type(self).__name__}.instance(): the form is not valid: {self.errors.as_text()}")
        made = model(**{**self.cleaned_data, **more})
        try:
            made.validate()
        except ValidationError as exc:
            self.add_error(None, str(exc))
            raise
        return made

    attrs["instance"] = instance
    return type(f"{model.__name__}Form", (forms.Form,), attrs)

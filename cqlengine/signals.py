"""Signals sent around each write of an instance: ``pre_save``, ``post_save``, ``pre_delete``, ``post_delete``::

    from cqlengine.signals import post_save

    @post_save.connect(sender=Order)
    def order_saved(sender, instance, created, batch, **kwargs):
        ...

A receiver is called with the model class as ``sender`` and the keywords
``instance``, ``batch`` (the :class:`~cqlengine.query.BatchQuery` the write
joined, or None) and, for the save signals, ``created`` (the instance was
new: never read from, nor written to, the table). It should take
``**kwargs``: later versions may send more.

Which writes send them: every write of an instance, whatever sends it:
``save()``, ``update()``, ``delete()``, ``Model.create()``,
``objects.create()``, their ``a``-prefixed twins, and ``bulk_create``,
``bulk_update`` and ``bulk_delete`` (one pair per instance). A queryset's
``update()`` and ``delete()`` send none: they write rows by their key
without reading them, so there is no instance to send (reading every row
first would change what they cost).

When: a ``pre_*`` signal before the statement is built (for
``update(**values)``, once the values are assigned), so a receiver sees, and
may still change, what is written, and one that raises stops the write with
nothing sent (and a bulk call before any of its
writes is sent); a ``post_*`` signal once the write ran: for a write in a
batch, when the batch has run (never, if it fails); not at all when the
write failed (a lost lightweight transaction included).

A receiver connected with a ``sender`` gets the writes of that model and of
its subclasses (a polymorphic base's receiver gets every subclass's
writes); without one, every model's. Receivers are held strongly, in the
order connected; ``disconnect`` removes one.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional, TypeVar

__all__ = ["Signal", "post_delete", "post_save", "pre_delete", "pre_save"]

R = TypeVar("R", bound=Callable[..., Any])


class Signal:
    """Receivers to call, in the order connected, each for the senders it was connected for."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: tuple[tuple[Callable[..., Any], Optional[type]], ...] = ()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Signal {self.name}: {len(self._receivers)} receiver(s)>"

    def connect(self, receiver: Optional[R] = None, sender: Optional[type] = None) -> Any:
        """Call ``receiver`` for the writes of ``sender`` (and its subclasses; None: every model). Used as
        ``signal.connect(fn)`` or as a decorator, ``@signal.connect(sender=Model)``; a receiver connected
        twice for one sender is called once."""
        if receiver is None:
            return lambda fn: self.connect(fn, sender)
        if not callable(receiver):
            raise TypeError(f"{self.name}.connect: {receiver!r} is not callable")
        with self._lock:
            if (receiver, sender) not in self._receivers:
                self._receivers = (*self._receivers, (receiver, sender))
        return receiver

    def disconnect(self, receiver: Callable[..., Any], sender: Optional[type] = None) -> bool:
        """Stop calling ``receiver`` for ``sender``; whether it was connected."""
        with self._lock:
            kept = tuple(r for r in self._receivers if r != (receiver, sender))
            found = len(kept) != len(self._receivers)
            self._receivers = kept
        return found

    def has_receivers(self, sender: type) -> bool:
        return any(wanted is None or issubclass(sender, wanted) for _, wanted in self._receivers)

    def send(self, sender: type, **kwargs: Any) -> None:
        """Call each receiver of ``sender`` with ``sender=`` and ``kwargs``; the first that raises stops it."""
        for receiver, wanted in self._receivers:
            if wanted is None or issubclass(sender, wanted):
                receiver(sender=sender, **kwargs)


pre_save = Signal("pre_save")
post_save = Signal("post_save")
pre_delete = Signal("pre_delete")
post_delete = Signal("post_delete")

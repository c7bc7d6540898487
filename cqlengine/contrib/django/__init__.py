"""Django integration (the ``django`` extra): add ``"cqlengine.contrib.django"`` to ``INSTALLED_APPS``.

- :mod:`~cqlengine.contrib.django.apps`: the connections of ``settings.CQLENGINE``, set up once per
  process when Django starts, connecting lazily (on the first query), so that a server that forks
  workers after loading the application (``gunicorn --preload``) has each worker connect on its own;
- ``manage.py cqlengine_sync [--plan]`` and ``manage.py cqlengine_migrations make|apply|status|rollback|sql``:
  the commands of ``python -m cqlengine``, over the cqlengine models of the installed apps;
- :class:`~cqlengine.contrib.django.test.CqlengineTestRunner`: each test run in a keyspace of its own,
  with the models' tables made there, dropped at the end;
- :func:`~cqlengine.contrib.django.forms.model_form`: a Django form of a model's columns.
"""

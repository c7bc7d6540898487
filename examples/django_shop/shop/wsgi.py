"""The WSGI application: ``gunicorn --preload --workers 2 shop.wsgi:application``. The app connects lazily
when Django starts (in the master, with --preload); each worker opens its own connection on its first query."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_wsgi_application()

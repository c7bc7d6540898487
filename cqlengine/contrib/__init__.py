"""Integrations with other libraries, each behind its own extra: nothing in the core imports them."""

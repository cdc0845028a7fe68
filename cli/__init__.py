"""The ``tigase-py`` command line."""

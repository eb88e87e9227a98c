"""The ``telehub`` command line: one bootstrap (``bootstrap``) shared by every
subcommand, and the demo data ``telehub demo`` loads.
"""

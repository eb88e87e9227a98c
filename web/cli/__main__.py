"""``python -m web.cli``: the same as the ``telehub`` command."""

from web.cli.commands import main

raise SystemExit(main())

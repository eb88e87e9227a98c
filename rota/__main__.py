"""``python -m rota ...``: the rota commands without the rest of telehub."""

import sys

from rota.cli import main

sys.exit(main())

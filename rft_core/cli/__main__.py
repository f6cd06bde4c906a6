"""``python -m rft_core.cli``: the ``rft`` command."""

import sys

from .app import main

sys.exit(main())

"""``python -m brokerwire.adapters.cli``: the same as the ``brokerwire`` command."""

import sys

from . import main

sys.exit(main())

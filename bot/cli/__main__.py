"""``python -m bot.cli``: the ``moodbot`` console script, for environments without it on PATH."""

import sys

from bot.cli import main

sys.exit(main())

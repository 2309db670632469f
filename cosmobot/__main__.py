"""Entry point: `python -m cosmobot`."""

import sys

from cosmobot.cli import main

if __name__ == "__main__":
    sys.exit(main())

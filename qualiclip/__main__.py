"""``python -m qualiclip``: see :mod:`qualiclip.cli`."""
import sys

from .cli import main

sys.exit(main())

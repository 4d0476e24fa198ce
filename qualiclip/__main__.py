"""``python -m qualiclip``: the ``qualiclip`` command (see :mod:`qualiclip.cli`)."""
import sys

from .cli import main

sys.exit(main(prog="python -m qualiclip"))

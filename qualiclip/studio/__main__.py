"""``python -m qualiclip.studio``: serve the app (see :mod:`qualiclip.studio.serve`)."""
from .serve import main

main()

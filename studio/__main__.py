"""``python -m studio``: serve the app (see :mod:`studio.serve`)."""
from .serve import main

main()

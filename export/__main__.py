"""`python -m export`: see export.cli."""
import sys

from export.cli import main

sys.exit(main())

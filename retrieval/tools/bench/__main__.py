"""`python -m retrieval.bench`: see the package docstring, and `--help`."""

import sys

from .cli import main

sys.exit(main())

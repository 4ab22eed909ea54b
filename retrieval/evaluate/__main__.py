import sys

from ..tools.evaluate import main

sys.exit(main())

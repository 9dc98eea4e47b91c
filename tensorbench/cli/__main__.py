"""`python -m tensorbench.cli`: the same as the `tensorbench` command."""

import sys

from . import main

sys.exit(main())

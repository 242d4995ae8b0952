"""`python -m ui.console`: the crew console (see `ui.console.app`)."""

import sys

from ui.console.app import main

sys.exit(main())

"""``python -m qzopt ...`` is ``qzopt ...`` (for an environment whose scripts folder is not on PATH)."""

import sys

from qzopt.cli import main

sys.exit(main())

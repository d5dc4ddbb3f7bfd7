"""``python -m tms_schedule`` runs the command line."""

import sys

from tms_schedule.cli import main

sys.exit(main())

"""``python -m tms_schedule`` runs the command line."""

import sys

from tms_schedule.cli import main

if __name__ == "__main__":
    sys.exit(main())

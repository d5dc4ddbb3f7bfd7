"""``python -m tms_schedule`` and the ``tms-schedule`` script: the command line."""

import signal
import sys


def run() -> int:
    """Run the command line: a Ctrl-C at any moment from here on is one line (see
    :func:`tms_schedule.cli.main`), never a traceback."""
    try:
        try:
            from tms_schedule.cli import main
        except KeyboardInterrupt:  # while the program loads: nothing has run yet
            print("tms-schedule: interrupted; nothing was changed", file=sys.stderr)
            return 130
        try:
            return main()
        except KeyboardInterrupt:  # after the command's own line: it is done
            return 130
    finally:
        # Done: a Ctrl-C while the interpreter shuts down has nothing left to stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(run())

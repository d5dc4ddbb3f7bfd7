"""``python -m tms_schedule`` and the ``tms-schedule`` script: the command line."""

import signal
import sys
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: :class:`KeyboardInterrupt`, but never inside Python's import machinery.

    A module's import lock is let go in a weak-reference callback, and an exception raised
    there is printed ("Exception ignored in ...", with a traceback) and then dropped: the
    Ctrl-C would be lost. There, the interrupt is delivered again a moment later, as SIGINT,
    so whatever handles Ctrl-C then (a change waiting to commit, say) has it."""
    if (
        frame is not None
        and frame.f_code.co_filename.startswith("<frozen importlib")
        and hasattr(signal, "setitimer")
    ):
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        return
    raise KeyboardInterrupt


def _again(signum: int, frame: FrameType | None) -> None:
    signal.raise_signal(signal.SIGINT)


def run() -> int:
    """Run the command line: a Ctrl-C at any moment from here on is one line (see
    :func:`tms_schedule.cli.main`), never a traceback."""
    signal.signal(signal.SIGINT, _interrupt)
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _again)
    status: int | None = None
    try:
        try:
            from tms_schedule.cli import main
        except KeyboardInterrupt:  # while the program loads: nothing has run yet
            print("tms-schedule: interrupted; nothing was changed", file=sys.stderr)
            return 130
        try:
            status = main()
        except KeyboardInterrupt:  # outside the command's own handling (it says none)
            from tms_schedule._files import shown_path
            from tms_schedule.cli.common import SAVED

            shown = ", ".join(map(shown_path, SAVED))
            what = f"saved already: {shown}" if SAVED else "nothing was changed"
            print(f"tms-schedule: interrupted; {what}", file=sys.stderr)
            return 130
        # Done: a Ctrl-C from now on has nothing left to stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return status
    except KeyboardInterrupt:  # the command had finished: its answer stands
        return 130 if status is None else status
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)  # no Ctrl-C delivered again after this


if __name__ == "__main__":
    sys.exit(run())

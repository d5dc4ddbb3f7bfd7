"""The version of tms_schedule (re-exported as ``tms_schedule.__version__``)."""

__version__ = "0.1.0"

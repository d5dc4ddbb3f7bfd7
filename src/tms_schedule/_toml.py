"""Reading settings files: TOML tables whose every error names the file and the key."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tms_schedule._files import read_file, shown_path
from tms_schedule.errors import ConfigError

_KIND_WORDS = {
    "int": "a whole number",
    "number": "a number from -1000000 to 1000000",
    "bool": "true or false",
    "str": "a string",
    "str-list": "a list of strings",
    "int-list": "a list of whole numbers",
    "date": "a date written 2026-11-26",
}


#: A settings file larger than this is not one (a clinic's file is a few kilobytes).
MAX_TOML_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def load_toml(path: str | Path) -> TomlTable:
    """Read a TOML file; a missing, unreadable or malformed file is a :class:`ConfigError`
    naming it.

    Only a regular file of at most 1 MiB is read (never a directory, a device or a pipe).
    A UTF-8 byte order mark at the start, which some Windows editors write, is accepted.
    """
    data = read_file(path, limit=MAX_TOML_BYTES, error=ConfigError, what="TOML file")
    return parse_toml(data, shown_path(path))


def parse_toml(data: bytes, file: str) -> TomlTable:
    """A TOML document's bytes (``file`` names it in errors), as :func:`load_toml` reads."""
    data = data.removeprefix(_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(f"{file}: is not UTF-8 text (line {line})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{file}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{file}: not valid TOML: nested too deeply") from None
    except ValueError:  # a number of thousands of digits, beyond what Python reads
        raise ConfigError(f"{file}: not valid TOML: a number too long to read") from None
    return TomlTable(file, "", document)


class TomlTable:
    """A table of a TOML file that knows where it is, for error messages."""

    def __init__(self, file: str, path: str, data: dict[str, Any]) -> None:
        self.file = file
        self.path = path
        self.data = data

    def where(self, key: str | None = None) -> str:
        """``file: [table] key`` for an error message."""
        parts = [p for p in (self.path, key) if p]
        return f"{self.file}: {'.'.join(parts)}" if parts else self.file

    def child(self, name: str, data: Any) -> TomlTable:
        if not isinstance(data, dict):
            raise ConfigError(f"{self.where(name)}: must be a table")
        path = f"{self.path}.{name}" if self.path else name
        return TomlTable(self.file, path, data)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def keys(self) -> Iterable[str]:
        return self.data.keys()

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                raise ConfigError(
                    f"{self.where(key)}: unknown key; allowed here: {', '.join(sorted(allowed))}"
                )

    def require(self, key: str, kind: type) -> Any:
        if key not in self.data:
            raise ConfigError(f"{self.where(key)}: required")
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            word = {str: "a string", int: "a whole number", list: "a list", dict: "a table"}.get(
                kind, kind.__name__
            )
            raise ConfigError(f"{self.where(key)}: must be {word}, got {value!r}")
        return value

    def typed(self, key: str, kind: str, *, required: bool = False) -> Any:
        """The value of ``key`` checked against ``kind`` (see ``_KIND_WORDS``)."""
        if key not in self.data:
            if required:
                raise ConfigError(f"{self.where(key)}: required ({_KIND_WORDS[kind]})")
            return None
        value = self.data[key]
        if not _is_kind(value, kind):
            if kind == "date" and isinstance(value, str):
                raise ConfigError(
                    f"{self.where(key)}: must be a TOML date, written without quotes"
                    f" ({key} = {value}), got the text {value!r}"
                )
            raise ConfigError(f"{self.where(key)}: must be {_KIND_WORDS[kind]}, got {value!r}")
        return value


def _is_kind(value: Any, kind: str) -> bool:
    match kind:
        case "int":
            return isinstance(value, int) and not isinstance(value, bool)
        case "number":
            return (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and abs(value) <= 1_000_000
            )
        case "bool":
            return isinstance(value, bool)
        case "str":
            return isinstance(value, str)
        case "str-list":
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
        case "int-list":
            return isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            )
        case "date":
            return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    raise AssertionError(kind)

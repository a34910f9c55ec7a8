"""One generic, typed registry for every pluggable kind (methods, metrics, detectors, suites).

Entries are registered eagerly (a class or factory) or lazily (a ``"module:attr"`` target that is
imported on first use), so ``python -m vbench_lite list`` never imports torch-heavy modules.
Third-party entries arrive through ``importlib.metadata`` entry points; the built-in methods use the
same entry-point group a plugin would. A broken plugin is reported (logged and kept in
``Registry.errors``) and skipped, never fatal.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class UnknownNameError(KeyError, ValueError):
    """An unknown registry name; the message carries a did-you-mean hint and what exists."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(ValueError):
    """A second entry under a name that is already taken."""


@dataclass
class Entry:
    """One registered entry; ``target`` is either the object itself or a lazy ``"module:attr"``."""

    name: str
    target: Any
    origin: str  # "built-in" or "plugin (<distribution>)"
    source: str  # where it was registered: module path or entry point text
    description: str = ""
    _loaded: Any = field(default=None, repr=False)

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.target, str)

    @property
    def loaded(self) -> bool:
        return self._loaded is not None or not self.is_lazy


def _import_target(target: str) -> Any:
    if ":" not in target:
        raise ValueError(f"lazy target {target!r} must look like 'package.module:attribute'")
    module_name, attr = target.split(":", 1)
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Named entries of one kind, checked against a base class.

    ``kind`` names the kind in messages ("method", "metric"); ``base`` is the class every entry
    must be (or, for a factory, return), given as a class or as a lazy ``"module:attr"`` target
    (imported on the first check, so a registry of torch-based kinds imports nothing at start);
    ``group`` is the entry-point group scanned for plugins.
    """

    def __init__(self, kind: str, base: type | str | None = None, group: str | None = None) -> None:
        self.kind = kind
        self._base = base
        self.group = group
        self._entries: dict[str, Entry] = {}
        self._plugins_scanned = False
        self.errors: dict[str, str] = {}  # plugin name -> why it was skipped

    # -- registration -------------------------------------------------------------------------
    def register(
        self,
        name: str,
        target: Any = None,
        *,
        description: str = "",
        origin: str = "built-in",
        source: str | None = None,
    ) -> Any:
        """Register ``target`` under ``name``; without a target, return a class decorator."""
        if target is None:

            def decorator(obj: Any) -> Any:
                self.register(name, obj, description=description, origin=origin, source=source)
                return obj

            return decorator
        self._check_name(name)
        if name in self._entries:
            prev = self._entries[name]
            raise DuplicateNameError(
                f"{self.kind} {name!r} is already registered (by {prev.source}); "
                "choose another name or remove the earlier registration"
            )
        if not isinstance(target, str):
            self._check_type(name, target)
            if source is None:
                source = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', '?')}"
        if not description and not isinstance(target, str):
            description = _first_doc_line(target)
        self._entries[name] = Entry(name, target, origin, source or str(target), description)
        return target

    def _check_name(self, name: str) -> None:
        if not name or name != name.strip() or ":" in name or name.lower() != name:
            raise ValueError(
                f"invalid {self.kind} name {name!r}: use lowercase words joined by '-', without ':'"
            )

    @property
    def base(self) -> type | None:
        if isinstance(self._base, str):
            self._base = _import_target(self._base)
        return self._base  # type: ignore[return-value]

    def _check_type(self, name: str, obj: Any) -> None:
        if self._base is None:
            return
        if isinstance(obj, type):
            if not issubclass(obj, self.base):
                raise TypeError(
                    f"{self.kind} {name!r}: {obj.__qualname__} is not a subclass of "
                    f"{self.base.__qualname__}"
                )
        elif not (callable(obj) or isinstance(obj, self.base)):
            raise TypeError(f"{self.kind} {name!r}: {obj!r} is neither a class nor a factory")

    # -- plugin discovery ---------------------------------------------------------------------
    def scan_entry_points(self) -> None:
        """Add every entry point of ``self.group`` (once); broken ones are logged and skipped."""
        if self._plugins_scanned or self.group is None:
            return
        self._plugins_scanned = True
        for ep in importlib.metadata.entry_points(group=self.group):
            dist = getattr(ep.dist, "name", None) or "unknown"
            builtin = dist.replace("_", "-").lower() == "vbench-lite"
            origin = "built-in" if builtin else f"plugin ({dist})"
            if ep.name in self._entries:
                if self._entries[ep.name].source == ep.value:
                    continue  # the same entry point seen twice (e.g. editable + wheel metadata)
                msg = f"{self.kind} plugin {ep.name!r} from {dist} clashes with an existing entry"
                logger.warning("%s; skipped", msg)
                self.errors[ep.name] = msg
                continue
            try:
                self.register(ep.name, ep.value, origin=origin, source=f"{ep.value} [{dist}]")
            except (ValueError, TypeError) as exc:
                logger.warning("skipping %s plugin %r from %s: %s", self.kind, ep.name, dist, exc)
                self.errors[ep.name] = str(exc)

    # -- lookup -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        self.scan_entry_points()
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry]:
        for name in self.names():
            yield self._entries[name]

    def __contains__(self, name: object) -> bool:
        self.scan_entry_points()
        return name in self._entries

    def entry(self, name: str) -> Entry:
        self.scan_entry_points()
        if name not in self._entries:
            raise UnknownNameError(self.unknown_message(name))
        return self._entries[name]

    def unknown_message(self, name: str) -> str:
        known = sorted(self._entries)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} {name!r}.{hint} Known {self.kind}s: {', '.join(known) or '(none)'}"

    def get(self, name: str) -> Any:
        """The registered object (class or factory), importing a lazy target on first use."""
        entry = self.entry(name)
        if entry._loaded is None:
            if entry.is_lazy:
                try:
                    obj = _import_target(entry.target)
                except Exception as exc:  # a broken plugin must say which one
                    raise ImportError(
                        f"{self.kind} {name!r} could not be loaded from {entry.source}: {exc}"
                    ) from exc
                self._check_type(name, obj)
                if not entry.description:
                    entry.description = _first_doc_line(obj)
            else:
                obj = entry.target
            entry._loaded = obj
        return entry._loaded

    def build(self, name: str, *args: Any, **kwargs: Any) -> T:
        """Instantiate the entry (call the class or factory)."""
        factory: Callable[..., T] = self.get(name)
        return factory(*args, **kwargs)

    def describe(self, name: str) -> str:
        """One-line description; loads a lazy entry only if it has no description yet."""
        entry = self.entry(name)
        if not entry.description:
            try:
                self.get(name)
            except ImportError as exc:
                return f"(broken: {exc})"
        return entry.description


def _first_doc_line(obj: Any) -> str:
    doc = getattr(obj, "__doc__", None) or ""
    for line in doc.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def split_name(spec: str) -> tuple[str, str | None]:
    """Split ``"NAME[:VARIANT]"``; the variant is lowercase words joined by '-'."""
    if not spec or spec != spec.strip():
        raise ValueError(f"invalid method name {spec!r}: expected NAME or NAME:VARIANT")
    name, _, variant = spec.partition(":")
    if not name:
        raise ValueError(f"invalid method name {spec!r}: expected NAME or NAME:VARIANT")
    if _ == ":" and not variant:
        raise ValueError(f"invalid method name {spec!r}: empty variant after ':'")
    if variant and (variant.lower() != variant or " " in variant or "_" in variant):
        raise ValueError(
            f"invalid variant {variant!r}: use lowercase words joined by '-' (e.g. 'sned:s-32')"
        )
    return name, variant or None

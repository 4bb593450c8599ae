"""The clinic directory and finding the clinics nearest to a US ZIP code or town.

The directory is data: ``knowledge/clinics.yaml`` (an example a deployment replaces), or the
file given with ``--clinics FILE`` or in the environment variable ``TRIAGE_CLINICS``. It is
validated strictly when it loads (unknown keys, unknown services, bad coordinates: refused,
naming the file and the key). Places are found offline, in the US ZIP codes and towns that
the ``zipcodes`` package ships; distances are great-circle distances.

Pure functions: the front ends collect the place and show what :func:`suggest` returns. The
place is never part of a case, and nothing here writes or logs it.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pydantic import Field, ValidationError

from triage.errors import KnowledgeError, TriageError
from triage.knowledge import KnowledgeBase, Strict, read_yaml
from triage.paths import knowledge_dir

ENV = "TRIAGE_CLINICS"
EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
KM_PER_MILE = 1.609344


class DirectoryError(KnowledgeError):
    """The clinic directory is broken; the message names the file and the key."""


class PlaceNotFound(TriageError):
    """A ZIP code or town that is not among the US ones known; ``suggestions`` are the
    nearest matches."""

    def __init__(self, what: str, suggestions: list[str], *, ambiguous: bool = False) -> None:
        super().__init__(what)
        self.what = what
        self.suggestions = suggestions
        self.ambiguous = ambiguous  # a town of that name in several states: which one?


class Clinic(Strict):
    """One clinic of the directory. Address, phone and web address are optional: the shipped
    example gives none rather than invent them."""

    name: str = Field(min_length=1)
    town: str = Field(min_length=1)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    postcode: str = Field(pattern=r"^[0-9]{5}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: Optional[str] = Field(default=None, min_length=1)
    phone: Optional[str] = Field(default=None, pattern=r"^\+?[0-9][0-9 ()./-]{5,}$")
    url: Optional[str] = Field(default=None, pattern=r"^https?://[^\s]+$")
    services: list[str] = []


class DirectoryInfo(Strict):
    example: bool = False  # an example to replace: the pages say so
    note: Optional[str] = None


class Directory(Strict):
    """A clinic directory file: ``directory`` (what it is) and ``clinics``."""

    directory: DirectoryInfo = DirectoryInfo()
    clinics: list[Clinic] = Field(min_length=1)


def default_path() -> Path:
    """The directory in use: ``TRIAGE_CLINICS`` if set, else the shipped example."""
    given = os.environ.get(ENV)
    return Path(given) if given else knowledge_dir() / "clinics.yaml"


def load(path: Optional[Path], kb: KnowledgeBase) -> Directory:
    """Read and validate a directory file (``None``: :func:`default_path`); every service
    must be one of ``knowledge/specialists.yaml``."""
    path = Path(path) if path else default_path()
    try:
        doc = read_yaml(path)
    except TriageError as exc:
        raise DirectoryError(str(exc)) from None
    if not isinstance(doc, dict):
        raise DirectoryError(f"{path}: expected a mapping with the keys directory, clinics")
    try:
        directory = Directory.model_validate(doc)
    except ValidationError as exc:
        raise DirectoryError("; ".join(f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                       for e in exc.errors())) from None
    services = kb.ids("services")
    problems = [f"{path}: clinics.{i}.services: unknown service {s!r}; allowed: {', '.join(services)}"
                for i, c in enumerate(directory.clinics) for s in c.services if s not in services]
    if problems:
        raise DirectoryError("; ".join(problems))
    return directory


_CACHE: dict[tuple[str, float, int], Directory] = {}


def current(path: Optional[Path], kb: KnowledgeBase) -> Directory:
    """:func:`load`, once per file version, knowledge base and process."""
    p = Path(path) if path else default_path()
    try:
        mtime = p.stat().st_mtime
    except OSError:
        return load(p, kb)  # says why it cannot be read
    key = (str(p.resolve()), mtime, id(kb))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load(p, kb)
    return _CACHE[key]


# --- places -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where a person is: a ZIP code's or a town's coordinates (never stored)."""

    name: str  # "Green Bay, WI 54301"
    latitude: float
    longitude: float


_ZIP = re.compile(r"^\s*([0-9]{5})(?:-[0-9]{4})?\s*$")
_TOWN = re.compile(r"^\s*(.+?)(?:\s*,\s*|\s+)([A-Za-z]{2})\s*$")
# the short forms people type, in the package's spelling
_WORDS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount", "pt": "point"}


def _norm(town: str) -> str:
    words = re.findall(r"[a-z0-9']+", town.lower())
    return " ".join(_WORDS.get(w, w) for w in words)


def _zips():
    import zipcodes  # ships its data; loaded on first use

    return zipcodes


def _standard_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r.get("zip_code_type") != "STANDARD", r["zip_code"]))


@functools.lru_cache(maxsize=64)
def _state_rows(state: str) -> tuple:
    return tuple(_zips().filter_by(state=state))


@functools.lru_cache(maxsize=1)
def _all_rows() -> tuple:
    return tuple(_zips().list_all())


@functools.lru_cache(maxsize=1)
def _towns() -> dict[str, str]:
    """Every town's normalised "name st" -> its display "Name, ST" (slow: the error path)."""
    out: dict[str, str] = {}
    for r in _all_rows():
        for city in [r["city"], *r.get("acceptable_cities", [])]:
            out.setdefault(f"{_norm(city)} {r['state'].lower()}", f"{city}, {r['state']}")
    return out


def _town_rows(town: str, state: Optional[str]) -> list[dict]:
    wanted = _norm(town)
    if state:
        rows = _state_rows(state.upper())
    else:
        rows = tuple(_zips().filter_by(city=town.strip().title())) or _all_rows()
    main = [r for r in rows if _norm(r["city"]) == wanted]
    also = [r for r in rows if any(_norm(c) == wanted for c in r.get("acceptable_cities", []))]
    found = main or also
    # a town of that name in several states, and none given: the largest (most ZIP codes)
    sizes: dict[str, int] = {}
    for r in found:
        sizes[r["state"]] = sizes.get(r["state"], 0) + 1
    return _standard_first(found) and sorted(
        _standard_first(found), key=lambda r: (-sizes[r["state"]], r["state"]))


def find_place(text: str) -> Place:
    """The coordinates of a US ZIP code ("54301", "54301-1234") or town ("Green Bay, WI",
    "West Allis WI", "Fond du Lac"). Unknown: :class:`PlaceNotFound` with the nearest matches."""
    given = " ".join(str(text).split())
    if not given:
        raise PlaceNotFound("", [])
    zc = _ZIP.match(given)
    if zc:
        rows = _zips().matching(zc.group(1))
        if rows:
            r = rows[0]
            return Place(f"{r['city']}, {r['state']} {r['zip_code']}", float(r["lat"]), float(r["long"]))
        raise PlaceNotFound(f"The ZIP code {zc.group(1)}", _near_zips(zc.group(1)))
    if re.fullmatch(r"[0-9 -]+", given):
        raise PlaceNotFound(f"The ZIP code {given!r}", [])
    m = _TOWN.match(given)
    town, state = (m.group(1), m.group(2)) if m and _state_rows(m.group(2).upper()) else (given, None)
    rows = _town_rows(town, state)
    states = list(dict.fromkeys(r["state"] for r in rows))
    if state is None and len(states) > 1:  # never guess which Springfield: ask for the state
        name = rows[0]["city"] if _norm(rows[0]["city"]) == _norm(town) else " ".join(town.split()).title()
        raise PlaceNotFound(repr(given), [f"{name}, {s}" for s in states[:6]], ambiguous=True)
    if rows:
        r = rows[0]
        name = r["city"] if _norm(r["city"]) == _norm(town) else " ".join(town.split()).title()
        return Place(f"{name}, {r['state']}", float(r["lat"]), float(r["long"]))
    return _town_not_found(given, town, state)


def _town_not_found(given: str, town: str, state: Optional[str]) -> Place:
    names = _towns()
    key = f"{_norm(town)} {state.lower()}" if state else _norm(town)
    if state:
        pool = list(names)
    else:  # no state given: match on the town alone
        pool = list({k.rsplit(" ", 1)[0] for k in names})
    close = difflib.get_close_matches(key, pool, n=5, cutoff=0.75)
    if state:  # the same state's towns first
        shown = sorted((names[k] for k in close), key=lambda v: not v.endswith(f", {state.upper()}"))
    else:
        by_town: dict[str, list[str]] = {}
        for k, v in names.items():
            by_town.setdefault(k.rsplit(" ", 1)[0], []).append(v)
        shown = [v for k in close for v in sorted(by_town[k])][:5]
    raise PlaceNotFound(f"The town {given!r}", shown)


def _near_zips(code: str) -> list[str]:
    """Known ZIP codes numerically nearest to an unknown one, in its area when there is any."""
    z = _zips()
    for prefix in (code[:4], code[:3], code[:2], code[:1]):
        rows = z.similar_to(prefix)
        if rows:
            rows = sorted(rows, key=lambda r: (abs(int(r["zip_code"]) - int(code)), r["zip_code"]))[:3]
            return [f"{r['zip_code']} ({r['city']}, {r['state']})" for r in rows]
    return []


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# --- suggestions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Suggestion:
    clinic: Clinic
    km: float
    services: list[str]  # the labels of what it offers, in the vocabulary's order
    matches: list[str]  # the labels of what this result needs that it offers

    @property
    def miles(self) -> float:
        return self.km / KM_PER_MILE


def needs(kb: KnowledgeBase, assessment=None) -> list[str]:
    """The services a result needs (``specialist_needs`` in specialists.yaml), for
    ``assessment`` (``None``: any result)."""
    n = kb.specialist_needs
    wanted = list(n.always)
    for c in getattr(assessment, "candidates", []):
        wanted += [s for s in n.for_types.get(c.type, []) if s not in wanted]
    return wanted


def by_distance(directory: Directory, place: Place, kb: KnowledgeBase, *, service: Optional[str] = None,
                wanted: Optional[list[str]] = None, limit: Optional[int] = None) -> list[Suggestion]:
    """The clinics nearest to ``place`` (offering ``service``, if given). With ``wanted``, the
    clinics offering more of those services come first, then the nearest; a clinic whose only
    match is a ``never_first`` service (DBS) never comes first."""
    labels = {s.id: s.label for s in kb.services}
    order = list(labels)
    never_first = set(kb.specialist_needs.never_first)
    out = []
    for c in directory.clinics:
        if service and service not in c.services:
            continue
        km = distance_km(place.latitude, place.longitude, c.latitude, c.longitude)
        offered = sorted(set(c.services), key=order.index)
        matches = [s for s in (wanted or []) if s in offered]
        out.append((c, km, offered, matches))

    def key(item):
        c, km, offered, matches = item
        if not wanted:
            return (0, 0, False, km, c.name)
        first_worthy = [s for s in matches if s not in never_first]
        only_never_first = bool(offered) and set(offered) <= never_first
        return (-len(first_worthy), -len(matches), only_never_first, km, c.name)

    out.sort(key=key)
    chosen = [Suggestion(c, km, [labels[s] for s in offered], [labels[s] for s in m]) for c, km, offered, m in out]
    return chosen[:limit] if limit else chosen


def suggest(kb: KnowledgeBase, assessment, place: Place, directory: Directory) -> "Suggestions":
    """What the find-a-specialist step shows after a result: the nearest clinics, those
    offering what the result needs first (never on an emergency result: see
    :func:`offered`)."""
    found = by_distance(directory, place, kb, wanted=needs(kb, assessment), limit=kb.specialist_words.limit)
    return Suggestions(words=kb.specialist_words, clinics=found, example=directory.directory.example)


def offered(kb: KnowledgeBase, assessment) -> bool:
    """Whether a result offers the find-a-specialist step: never on an emergency result,
    whose action is emergency care, not a clinic."""
    return not kb.is_emergency(assessment.care_level)


@dataclass(frozen=True)
class Suggestions:
    """The chosen clinics as the result and the report show them (without the place)."""

    words: object
    clinics: list[Suggestion]
    example: bool

    def distance(self, s: Suggestion) -> str:
        return self.words.distance.format(miles=f"{s.miles:.0f}", km=f"{s.km:.0f}")  # type: ignore[attr-defined]

    def offers(self, s: Suggestion) -> str:
        w = self.words
        return f"{w.offers}: {', '.join(s.services)}" if s.services else w.offers_unknown  # type: ignore[attr-defined]

    @property
    def far(self) -> Optional[str]:
        """When even the nearest clinic is far: say so, and where else to ask."""
        w = self.words
        if self.clinics and self.clinics[0].miles > w.far_miles:  # type: ignore[attr-defined]
            return w.far.format(distance=self.distance(self.clinics[0]))  # type: ignore[attr-defined]
        return None

    def contact(self, s: Suggestion) -> list[str]:
        c = s.clinic
        return [x for x in (c.address, c.phone, c.url) if x]


def not_found_message(kb: KnowledgeBase, exc: PlaceNotFound) -> str:
    """The words for a place that was not found, with the nearest matches."""
    w = kb.specialist_words
    if not exc.what:
        return w.empty
    if exc.ambiguous:
        return w.ambiguous.format(what=exc.what, matches="; ".join(exc.suggestions))
    hint = w.nearest.format(matches="; ".join(exc.suggestions)) if exc.suggestions else w.no_suggestions
    return w.not_found.format(what=exc.what, suggestions=hint)


def text_lines(found: Suggestions, wrap, place: Optional[str] = None) -> list[str]:
    """The suggestions as plain-text lines (``place``: the place's name, on the screen only)."""
    w = found.words
    out = [w.heading + ":"]  # type: ignore[attr-defined]
    if place:
        out.append(wrap(w.near.format(place=place), "  "))  # type: ignore[attr-defined]
    return out + clinic_lines(found, wrap, "  ")


def clinic_lines(found: Suggestions, wrap, indent: str = "", gap: bool = False) -> list[str]:
    """The numbered clinics with what each offers and how to reach it, then whether they are
    far and whether the directory is an example; ``gap``: a blank line before those notes."""
    w = found.words
    out = []
    for i, s in enumerate(found.clinics, 1):
        c = s.clinic
        out.append(wrap(f"{i}. {c.name}, {c.town}, {c.state} {c.postcode}: {found.distance(s)}", indent, 3))
        out.append(wrap(found.offers(s), indent + "   "))
        out += [wrap(x, indent + "   ") for x in found.contact(s)]
    for note in (found.far, w.example if found.example else None):  # type: ignore[attr-defined]
        if note:
            out += ([""] if gap else []) + [wrap(note, indent)]
    return out

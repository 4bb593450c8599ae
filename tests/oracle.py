"""An independent oracle for body distribution, written plainly from the project's clinical
conventions (Albanese 2013, axis I, with the project's contiguity graph and precedence). It
shares no code with the rules: it exists to be compared with them."""

from __future__ import annotations

from itertools import combinations

LIMB_SIDE = {
    "upper_limb_left": ("upper", "left"), "upper_limb_right": ("upper", "right"),
    "lower_limb_left": ("lower", "left"), "lower_limb_right": ("lower", "right"),
    "upper_limb": ("upper", None), "lower_limb": ("lower", None),
}
TOUCHING = {
    frozenset(p) for p in [
        ("eyes", "face_jaw"), ("face_jaw", "larynx"), ("face_jaw", "neck"), ("larynx", "neck"),
        ("eyes", "neck"), ("neck", "trunk"),
        ("neck", "upper_limb_left"), ("neck", "upper_limb_right"), ("neck", "upper_limb"),
        ("trunk", "upper_limb_left"), ("trunk", "upper_limb_right"), ("trunk", "upper_limb"),
        ("trunk", "lower_limb_left"), ("trunk", "lower_limb_right"), ("trunk", "lower_limb"),
        ("upper_limb_left", "upper_limb_right"), ("lower_limb_left", "lower_limb_right"),
        # a side-unknown limb touches what any limb of its kind touches, the other side included
        ("upper_limb", "upper_limb_left"), ("upper_limb", "upper_limb_right"),
        ("lower_limb", "lower_limb_left"), ("lower_limb", "lower_limb_right"),
    ]
}
FOCAL = {
    "eyes": "focal.blepharospasm", "face_jaw": "focal.facial", "larynx": "focal.laryngeal",
    "neck": "focal.cervical", "trunk": "focal.truncal",
    "upper_limb_left": "focal.upper_limb", "upper_limb_right": "focal.upper_limb", "upper_limb": "focal.upper_limb",
    "lower_limb_left": "focal.lower_limb", "lower_limb_right": "focal.lower_limb", "lower_limb": "focal.lower_limb",
}
ALL_REGIONS = sorted(FOCAL)


def connected(regions: set[str]) -> bool:
    regions = set(regions)
    start = next(iter(regions))
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        for other in regions - seen:
            if frozenset((here, other)) in TOUCHING:
                seen.add(other)
                todo.append(other)
    return seen == regions


def is_hemi(regions: set[str]) -> bool:
    for side in ("left", "right"):
        arm = any(LIMB_SIDE.get(r) == ("upper", side) for r in regions)
        leg = any(LIMB_SIDE.get(r) == ("lower", side) for r in regions)
        other = any(r in LIMB_SIDE and LIMB_SIDE[r][1] not in (None, side) for r in regions)
        if arm and leg and not other:
            return True
    return False


def distribution(regions) -> str | None:
    """The candidate type for a set of regions, or None for no region."""
    regions = named(regions)
    if not regions:
        return None
    if "trunk" in regions and len(regions) >= 3:
        return "generalized"
    if is_hemi(regions):
        return "hemidystonia"
    if len(regions) >= 2:
        return "segmental" if connected(regions) else "multifocal"
    return FOCAL[next(iter(regions))]


def every_region_set(max_size: int = len(ALL_REGIONS)):
    for n in range(1, max_size + 1):
        yield from combinations(ALL_REGIONS, n)


# Regions derived from symptoms when a case names none (KNOWLEDGE.md, "Regions derived from
# symptoms"). `speech_difficulty` depends on the other symptoms, so it is handled in the function.
SYMPTOM_REGIONS = {
    "eye_blinking": {"eyes"},
    "face_grimacing": {"face_jaw"}, "jaw_tongue_movements": {"face_jaw"},
    "neck_craning": {"neck"},
    "body_twisting": {"trunk"},
    "widespread_spasms": {"trunk", "upper_limb_left", "upper_limb_right", "lower_limb_left", "lower_limb_right"},
    "hand_difficulty": {"upper_limb"},
    "foot_cramping": {"lower_limb"}, "foot_dragging": {"lower_limb"},
    "tremor": set(), "jerks": set(),
}
UPPER_BODY = {"eyes", "face_jaw", "neck", "trunk", "upper_limb_left", "upper_limb_right", "upper_limb"}


def named(regions) -> set[str]:
    """Regions as named: an arm (or leg) of unknown side named beside one of a known side is
    the same limb and adds no region (conventions decided 2026-12-01)."""
    regions = set(regions)
    for unknown, sided in (("upper_limb", {"upper_limb_left", "upper_limb_right"}),
                           ("lower_limb", {"lower_limb_left", "lower_limb_right"})):
        if unknown in regions and regions & sided:
            regions.discard(unknown)
    return regions


def regions_involved(symptoms, regions=()) -> set[str]:
    """The regions a case involves: those it names, or else those its symptoms point to."""
    if regions:
        return named(regions)
    symptoms = set(symptoms)
    found: set[str] = set()
    for s in symptoms - {"speech_difficulty"}:
        found |= SYMPTOM_REGIONS[s]
    if "speech_difficulty" in symptoms:
        jaw_or_face = symptoms & {"jaw_tongue_movements", "face_grimacing"}
        found.add("face_jaw" if jaw_or_face else "larynx")
    return found


def candidate_types(symptoms, regions=()) -> set[str]:
    """The dystonia types a case may fit: the body distribution, and myoclonus-dystonia when
    jerks come with dystonia in the upper body (neck, an arm, the face, the trunk) and no leg."""
    involved = regions_involved(symptoms, regions)
    types = {distribution(involved)} - {None}
    legs = {r for r in involved if LIMB_SIDE.get(r, ("",))[0] == "lower"}
    if "jerks" in set(symptoms) and involved & UPPER_BODY and not legs:
        types.add("myoclonus_dystonia")
    return types

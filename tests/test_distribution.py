"""Body distribution: every focal region, every pair of KNOWLEDGE.md's graph, the precedence,
and a differential test against a plain oracle over every set of regions."""

from __future__ import annotations

import pytest

from tests.conftest import run_assess, types_of
from tests.oracle import ALL_REGIONS, TOUCHING, distribution, every_region_set


def distribution_type(result) -> list[str]:
    return [c for c in types_of(result) if c != "myoclonus_dystonia"]


@pytest.mark.parametrize("region, expected", [
    ("eyes", "focal.blepharospasm"),
    ("face_jaw", "focal.facial"),
    ("larynx", "focal.laryngeal"),
    ("neck", "focal.cervical"),
    ("trunk", "focal.truncal"),
    ("upper_limb_left", "focal.upper_limb"),
    ("upper_limb_right", "focal.upper_limb"),
    ("upper_limb", "focal.upper_limb"),
    ("lower_limb_left", "focal.lower_limb"),
    ("lower_limb_right", "focal.lower_limb"),
    ("lower_limb", "focal.lower_limb"),
])
def test_one_region_is_the_focal_type_of_that_region(region, expected):
    assert distribution_type(run_assess(regions=[region])) == [expected]


CONTIGUOUS = [
    ("eyes", "face_jaw"), ("face_jaw", "larynx"), ("face_jaw", "neck"), ("larynx", "neck"),
    ("eyes", "neck"), ("neck", "trunk"), ("neck", "upper_limb_left"), ("neck", "upper_limb_right"),
    ("trunk", "upper_limb_left"), ("trunk", "upper_limb_right"), ("trunk", "lower_limb_left"),
    ("trunk", "lower_limb_right"), ("upper_limb_left", "upper_limb_right"),
    ("lower_limb_left", "lower_limb_right"),
]
NOT_CONTIGUOUS = [
    ("eyes", "larynx"), ("eyes", "upper_limb_left"), ("face_jaw", "upper_limb_right"),
    ("larynx", "lower_limb_left"), ("neck", "lower_limb_right"), ("eyes", "lower_limb"),
    ("upper_limb_left", "lower_limb_right"),
    ("upper_limb", "lower_limb"), ("eyes", "trunk"), ("larynx", "trunk"),
]


@pytest.mark.parametrize("pair", CONTIGUOUS, ids="-".join)
def test_two_touching_regions_are_segmental(pair):
    assert distribution_type(run_assess(regions=list(pair))) == ["segmental"]


@pytest.mark.parametrize("pair", NOT_CONTIGUOUS, ids="-".join)
def test_two_regions_apart_are_multifocal(pair):
    assert distribution_type(run_assess(regions=list(pair))) == ["multifocal"]


@pytest.mark.parametrize("regions, expected", [
    # generalized: trunk and at least two other regions, whatever else
    (["trunk", "neck", "upper_limb_left"], "generalized"),
    (["trunk", "eyes", "larynx"], "generalized"),
    (["trunk", "upper_limb_left", "lower_limb_left"], "generalized"),  # beats hemidystonia
    (["trunk", "upper_limb_left", "upper_limb_right", "lower_limb_left", "lower_limb_right"], "generalized"),
    # hemidystonia: arm and leg of one side, no limb of the other side
    (["upper_limb_left", "lower_limb_left"], "hemidystonia"),
    (["upper_limb_right", "lower_limb_right", "face_jaw"], "hemidystonia"),
    (["upper_limb_right", "lower_limb_right", "eyes", "neck"], "hemidystonia"),
    (["upper_limb_left", "lower_limb_left", "upper_limb"], "hemidystonia"),  # side unknown is not the other side
    (["upper_limb_left", "lower_limb_left", "lower_limb_right"], "multifocal"),
    (["upper_limb", "lower_limb"], "multifocal"),  # side unknown never makes hemidystonia
    (["upper_limb", "lower_limb_left"], "multifocal"),
    # an arm of unknown side beside a sided one is the same arm (decided 2026-12-01)
    (["upper_limb", "upper_limb_right"], "focal.upper_limb"),
    (["lower_limb", "lower_limb_left"], "focal.lower_limb"),
    # segmental needs one connected group; trunk with only one other region is not generalized
    (["eyes", "face_jaw", "larynx"], "segmental"),
    (["eyes", "larynx", "neck"], "segmental"),
    (["trunk", "neck"], "segmental"),
    (["upper_limb_left", "neck", "upper_limb_right"], "segmental"),
    (["eyes", "face_jaw", "upper_limb_left"], "multifocal"),
    (["eyes", "larynx", "upper_limb_right"], "multifocal"),
])
def test_precedence_of_distribution_types(regions, expected):
    assert distribution_type(run_assess(regions=regions)) == [expected]


def test_the_oracle_agrees_with_the_knowledge_base_graph():
    from triage.models import KB

    assert {frozenset((e.a, e.b)) for e in KB.contiguous} == TOUCHING
    assert sorted(KB.ids("regions")) == ALL_REGIONS


def test_rules_match_the_plain_oracle_on_every_set_of_regions():
    """Differential test: all 2,047 non-empty sets of the 11 regions."""
    mismatches = []
    for regions in every_region_set():
        got = distribution_type(run_assess(regions=list(regions)))
        want = distribution(regions)
        if got != [want]:
            mismatches.append((regions, got, want))
    assert not mismatches, mismatches[:10]


def test_no_region_gives_no_distribution_type():
    assert types_of(run_assess(symptoms=["tremor"])) == []

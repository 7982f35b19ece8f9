"""``pixelpipe ops`` and ``pixelpipe backends``."""

from __future__ import annotations

import json

from pixelpipe.cli.listing import schema_range, schema_type
from pixelpipe.ops import registry


def test_ops_lists_every_registered_op_with_its_kind(cli):
    r = cli("ops")
    assert r.exit_code == 0, r.stderr
    rows = {ln.split()[0]: ln.split()[1] for ln in r.stdout.splitlines()[1:] if ln.strip()
            and not ln.startswith(" ")}
    reg = registry()
    assert reg, "the catalogue is empty"
    for name, cls in reg.items():
        assert rows.get(name) == cls.kind.value, (name, r.stdout)


def test_ops_json_matches_the_registry(cli):
    r = cli("ops", "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert {d["name"] for d in data} == set(registry())
    assert all(d["description"] for d in data)


def test_op_parameters_come_from_the_model(cli):
    r = cli("ops", "exposure")
    assert r.exit_code == 0, r.stderr
    field = registry()["exposure"].model_fields["stops"]
    assert r.stdout.startswith("exposure (pointwise): ")
    line = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("stops:"))
    assert "float" in line and f"default {field.default:g}" in line
    assert "range [-10, 10]" in line and "unit stops" in line
    assert field.description in r.stdout


def test_op_json_is_the_model_schema(cli):
    r = cli("ops", "exposure", "--json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == registry()["exposure"].model_json_schema()


def test_schema_type_and_range_formatting():
    defs = {"Mode": {"enum": ["a", "b"], "type": "string"}}
    assert schema_type({"type": "number"}, defs) == "float"
    assert schema_type({"$ref": "#/$defs/Mode"}, defs) == "'a' | 'b'"
    assert schema_type({"anyOf": [{"type": "integer"}, {"type": "null"}]}, defs) == "int | none"
    arr = {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 3,
           "maxItems": 3}
    assert schema_type(arr, defs) == "3 x float"
    assert schema_range(arr, defs) == "[0, inf)"
    assert schema_range({"exclusiveMinimum": 0, "maximum": 2.5}, defs) == "(0, 2.5]"
    assert schema_range({"type": "string"}, defs) == ""


def test_backends_lists_every_adapter_with_limits(cli, wgpu_backend):
    from pixelpipe.backends.wgpu.device import enumerate_adapters

    found = [info for _, info in enumerate_adapters()]
    r = cli("backends")
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "cpu" in out and "wgpu" in out
    for info in found:
        assert f"[{info['index']}] {info['name']}" in out
    assert "max storage buffer binding size" in out and "max workgroups per dimension" in out
    if wgpu_backend.info["software"]:
        assert "software" in out
    # the adapter the tests run on (llvmpipe in CI) is listed
    assert wgpu_backend.info["name"] in out


def test_backends_json(cli, wgpu_backend):
    from pixelpipe.backends.wgpu.device import enumerate_adapters

    r = cli("backends", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    names = {b["name"]: b for b in data["backends"]}
    assert names["cpu"]["available"] is True
    assert "wgpu" in names and isinstance(names["wgpu"]["reason"], str)
    assert data["auto"] in ("cpu", "wgpu")
    found = [info for _, info in enumerate_adapters()]
    assert [a["index"] for a in data["adapters"]] == [i["index"] for i in found]
    for a, info in zip(data["adapters"], found, strict=True):
        assert a["name"] == info["name"] and a["software"] == info["software"]
        assert a["limits"]["max-storage-buffer-binding-size"] == \
            info["limits"]["max-storage-buffer-binding-size"]
        assert a["limits"]["max-compute-workgroups-per-dimension"] == \
            info["limits"]["max-compute-workgroups-per-dimension"]

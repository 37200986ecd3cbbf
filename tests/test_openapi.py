"""The typed HTTP boundary (issue 25): every operation's OpenAPI entry describes what it answers.
A JSON answer names a response model (a schema with its fields, not a bare object); a binary or
text answer names its media types; the models forbid fields they do not name, so a route that
answers more than its model says fails in the service tests instead of drifting from this
document."""

from __future__ import annotations

from callscope.api.app import create_app
from callscope.service.config import ServiceSettings


def _described(schema: dict, components: dict) -> bool:
    """Whether a response schema says what the answer holds."""
    if "$ref" in schema:
        return bool(components[schema["$ref"].rsplit("/", 1)[1]].get("properties"))
    if schema.get("type") == "array":
        return _described(schema.get("items", {}), components)
    if schema.get("type") == "string":
        return True  # a file, a stream or text, under its media type
    return bool(schema.get("properties"))


def test_every_operation_describes_its_answer(tmp_path):
    spec = create_app(ServiceSettings(data_dir=tmp_path)).openapi()
    components = spec["components"]["schemas"]
    undescribed = []
    operations = 0
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            operations += 1
            answers = {code: r for code, r in op["responses"].items() if code.startswith("2")}
            assert answers, f"{method.upper()} {path} documents no success answer"
            for code, answer in answers.items():
                if code == "204":  # no content
                    assert not answer.get("content"), f"{method.upper()} {path}: a 204 with a body"
                    continue
                content = answer.get("content") or {}
                if not content or not all(_described(c.get("schema") or {}, components) for c in content.values()):
                    undescribed.append(f"{method.upper()} {path} {code} {sorted(content)}")
    assert operations >= 40 and undescribed == []

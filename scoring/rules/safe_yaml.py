"""YAML that users write (rule sets), read without the two ways a few hundred bytes can cost a
server gigabytes or a crash: aliases (``*name``, the "billion laughs" bomb) are refused, and
nesting deeper than :data:`MAX_DEPTH` collections is refused before the recursive composer can
overflow the stack. Plain YAML 1.1 otherwise (PyYAML's safe loader: no Python objects)."""

from __future__ import annotations

import yaml

#: The deepest nesting of mappings and lists accepted (a rule set needs about a dozen).
MAX_DEPTH = 64


class UnsafeYaml(yaml.YAMLError):
    """YAML refused for what it could cost to read; the message says where (line and column)."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, with aliases refused and nesting bounded while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise UnsafeYaml(f"line {mark.line + 1}, column {mark.column + 1}: aliases (*name) are not accepted; "
                             "write the value out where it is needed")
        if self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent):
            if self._depth >= MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise UnsafeYaml(f"line {mark.line + 1}, column {mark.column + 1}: nested more than "
                                 f"{MAX_DEPTH} levels deep")
            self._depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def load(text: str) -> object:
    """The document in ``text``: UnsafeYaml for an alias or too deep a nesting, yaml.YAMLError for
    what is not YAML."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()

"""Turn the text of a YAML file (brief.yaml) into Python values, or into one Problem saying where and how to fix it.

PyYAML's safe loader, except that a key given twice is an error (not a silent overwrite) and a
date that is no calendar day stays text, for the schema to name.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date
from typing import Any

import yaml

from briefgen.errors import InputError, Problem

_BRACKETS = {"while parsing a flow mapping": "'{'", "while parsing a flow sequence": "'['"}


class _DuplicateKey(yaml.constructor.ConstructorError):
    """A mapping that gives the same key twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice is an error, not a silent overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: PyYAML's own check below reports it
            if first != key_node.start_mark.line + 1:
                raise _DuplicateKey(
                    None, None, f"key '{key}' appears twice (first on line {first})", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)

    # The stub's base returns a date; this one returns the scalar's text when it is no date.
    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | str:  # type: ignore[override]
        # PyYAML raises a bare ValueError for '2026-13-01'; keep the text, and the schema says what is wrong.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp)


def load_yaml(text: str, label: str) -> Any:
    """The values of a YAML text (None when it is empty); InputError naming the line and the fix when it is not YAML."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader) if text.strip() else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and problem.startswith(
            "but "
        ):  # 'expected a single document in the stream, but found another document'
            problem = f"{context}, {problem}"
        fix = "check indentation and quoting"
        if context in _BRACKETS and opened and mark and opened.line != mark.line:
            fix = f"close the {_BRACKETS[context]} opened on line {opened.line + 1}"
        elif isinstance(exc, _DuplicateKey):
            fix = "delete one of them"
        elif "'\\t'" in problem:
            fix = "indent with spaces, not tabs"
        raise InputError([Problem(label, f"{where}{problem}", fix=fix)]) from None

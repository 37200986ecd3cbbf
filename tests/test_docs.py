"""The documentation shows only commands and flags that exist (issue 25): every ``callscope …``
written in README.md or docs/*.md (in code blocks and inline code) names a real command, and each
of its ``--flags`` is one that command's ``--help`` lists. README.md stays under 15 KB and every
relative link in the docs points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from callscope.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: ``callscope`` as a command (not callscope-results/, callscope.cli or a path)
COMMAND = re.compile(r"(?<![\w./-])callscope((?:\s+[^\s`#|][^\s`]*|\s+\|)*)")
FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def _shown_commands(text: str) -> list[str]:
    """Every ``callscope …`` written as code: fenced blocks (a line and its indented ``[…]``
    continuation lines) and inline code spans; comments after `` # `` cut off."""
    shown: list[str] = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        current: list[str] = []
        for line in block.splitlines():
            code = re.split(r"(?:^|\s)#(?:\s|$)", line)[0]
            if re.match(r"\s+[\[-]", code) and current:
                current.append(code.strip())
                continue
            if current:
                shown.append(" ".join(current))
            current = [code.strip()] if COMMAND.search(code) else []
        if current:
            shown.append(" ".join(current))
    text_outside = re.sub(r"```.*?```", "", text, flags=re.S)
    shown += [span for span in re.findall(r"`([^`\n]+)`", text_outside) if COMMAND.search(span)]
    return shown


def _is_group(command) -> bool:
    """A command with subcommands (typer's groups: typer ships its own click)."""
    return isinstance(getattr(command, "commands", None), dict)


def _options(command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


def _check(shown: str, root) -> list[str]:
    problems = []
    for match in COMMAND.finditer(shown):
        words = match.group(1).split()
        command = root
        rest = words
        while _is_group(command) and rest and rest[0] in command.commands:
            command, rest = command.commands[rest[0]], rest[1:]
        if command is root and rest and not rest[0].startswith("-"):
            problems.append(f"`callscope {rest[0]}`: no such command")
            continue
        allowed = _options(command)
        if _is_group(command):  # `rules list|show N|add FILE [--activate]`: the named subcommands
            named = {w for word in rest for w in re.split(r"[|\[\]]", word) if w in command.commands} or set(command.commands)
            for name in named:
                allowed |= _options(command.commands[name])
        for word in rest:
            for part in re.split(r"[|/\[\]]", word):
                flag = FLAG.fullmatch(part.split("=")[0])
                if flag and flag.group(1) not in allowed:
                    problems.append(f"`callscope {' '.join(words)}`: {flag.group(1)} is not an option of "
                                    f"`{command.name}`")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_and_flag_the_docs_show_exists(page):
    root = typer.main.get_command(app)
    assert _is_group(root)
    shown = _shown_commands(page.read_text())
    problems = [p for s in shown for p in _check(s, root)]
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_wrong_command_and_a_wrong_flag():
    root = typer.main.get_command(app)
    assert _check("callscope analyze call.wav --out x --frobnicate", root) == [
        "`callscope analyze call.wav --out x --frobnicate`: --frobnicate is not an option of `analyze`"]
    assert _check("callscope analyse call.wav", root) == ["`callscope analyse`: no such command"]
    assert _check("callscope rules list|show N|add FILE [--activate]|activate N", root) == []


def test_readme_is_short_and_every_relative_link_resolves():
    assert (ROOT / "README.md").stat().st_size < 15_000
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"^(https?:|mailto:|#)", target):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken

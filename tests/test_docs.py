"""The README documents the whole command line (in the spirit of sqlite-utils' docs test).

Every command and every option that `--help` shows appears in README.md, and every
command's help carries an example.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from crawler.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        yield " ".join((*path, name)), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


COMMANDS = dict(_commands(cli))


def _options(command: click.Command) -> list[str]:
    names = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names.extend(o for o in param.opts if o.startswith("--") and o != "--help")
    return names


def test_the_command_line_has_commands() -> None:
    assert {"crawl", "search", "show", "export", "reextract", "schedule run"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"{name} " in README or f"{name}\n" in README or f"{name}`" in README, name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_in_the_readme(name: str) -> None:
    missing = [o for o in _options(COMMANDS[name]) if o not in README]
    assert not missing, f"{name}: options not in README.md: {missing}"


@pytest.mark.parametrize(
    "name", sorted(n for n, c in COMMANDS.items() if not isinstance(c, click.Group))
)
def test_every_command_help_has_an_example(name: str) -> None:
    assert "Example" in (COMMANDS[name].help or ""), f"`newsarchive {name} --help` has no example"


def test_global_options_are_in_the_readme() -> None:
    assert [o for o in _options(cli) if o not in README] == []

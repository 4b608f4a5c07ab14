"""The command line itself: help, `python -m ladder`, argument checks, region resolution."""

from __future__ import annotations

import argparse
import json
import runpy
import sys

import pytest

from ladder import cli, commands, console


def test_help_lists_every_command(capsys):
    # When the top-level help is asked for
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])

    # Then it exits 0 and names each command group with its subcommands
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for text in ("ask", "docs upload DIR", "data check FILE", "finetune start|status"):
        assert text in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ask", "--help"], "SigV4-signed POST /ask"),
        (["docs", "upload", "--help"], ".ladderignore"),
        (["data", "check", "--help"], "Exit 0 when usable"),
        (["finetune", "start", "--help"], "Unusable data is refused"),
        (["finetune", "status", "--help"], "published fine-tuned model"),
        (["finetune", "plan", "--help"], "Exit 0 when the run fits"),
    ],
)
def test_each_command_has_help_text(capsys, argv, expected):
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert expected in capsys.readouterr().out


def test_python_dash_m_ladder_runs_the_same_cli(capsys, monkeypatch):
    # Given `python -m ladder --help`
    monkeypatch.setattr(sys, "argv", ["ladder", "--help"])

    # When the package is run as a module
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("ladder", run_name="__main__", alter_sys=True)

    # Then the CLI's help is printed
    assert exit_info.value.code == 0
    assert "finetune start|status" in capsys.readouterr().out


def test_top_k_outside_the_apis_range_is_a_usage_error(capsys):
    # When --top-k is beyond what the API accepts
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["ask", "question", "--top-k", "21"])

    # Then argparse refuses it before anything is sent
    assert exit_info.value.code == 2
    assert "must be from 1 to 20, got 21" in capsys.readouterr().err


def test_without_a_region_the_user_is_told_how_to_set_one(run_cli, monkeypatch, tmp_path):
    # Given no region anywhere in the environment or AWS configuration, outside the project (no cdk.json)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    # When a command that needs AWS runs
    result = run_cli("finetune", "status")

    # Then exit 2 with how to set a region
    assert result.code == 2
    assert "no AWS region: pass --region" in result.err


def test_version_is_the_packages(capsys):
    import importlib.metadata

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ladder {importlib.metadata.version('ladder')}"


def test_bare_ladder_prints_the_commands(capsys):
    code = cli.main([])

    out = capsys.readouterr().out
    assert code == 0
    for command in ("ask", "docs", "doctor", "data", "examples", "justify", "finetune", "eval"):
        assert f"    {command} " in out or f"    {command}\n" in out


def _options(parser, path):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, [*path, name])
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            yield " ".join(path), "/".join(action.option_strings) or action.dest, action.help


def test_every_option_and_argument_has_help():
    missing = [
        (command, option) for command, option, text in _options(cli.build_parser(), ["ladder"]) if not text
    ]
    assert missing == []


def test_an_ec2_instance_name_suggests_the_sagemaker_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(
            ["finetune", "plan", "--base-model", "Qwen/Qwen2.5-7B-Instruct", "--instance-type", "g5.4xlarge"]
        )

    assert exit_info.value.code == 2
    assert "did you mean ml.g5.4xlarge?" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv0", "on_path", "expected"),
    [
        (".venv/bin/ladder", False, ".venv/bin/ladder"),
        (".venv/bin/ladder", True, "ladder"),
        ("/somewhere/ladder/__main__.py", False, "-m ladder"),
    ],
)
def test_printed_commands_use_the_form_that_started_ladder(tmp_path, monkeypatch, argv0, on_path, expected):
    """A hint pasted into the same shell must run: `.venv/bin/ladder` when ladder is not on the PATH
    (the README's setup without `source .venv/bin/activate`), `ladder` when it is."""
    from ladder import hints

    monkeypatch.chdir(tmp_path)
    script = tmp_path / ".venv" / "bin" / "ladder"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(script.parent) if on_path else str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "argv", [argv0])

    command = hints.command("eval", "run", "--out", "runs/night 1")

    assert command.endswith(" eval run --out 'runs/night 1'")
    assert command.startswith(expected) or f" {expected} " in command


def test_data_check_takes_the_file_as_finetune_start_and_justify_do(tmp_path, capsys):
    from .conftest import write_jsonl

    chats = write_jsonl(tmp_path / "chats.jsonl", 3)

    positional = cli.main(["data", "check", str(chats), "--min-examples", "2"])
    first = capsys.readouterr().out
    option = cli.main(["data", "check", "--data", str(chats), "--min-examples", "2"])
    second = capsys.readouterr().out
    neither = cli.main(["data", "check"])

    assert positional == option == 0 and first == second
    assert neither == 2 and "data check needs FILE (or --data FILE)" in capsys.readouterr().err


def test_data_check_needs_as_many_examples_as_the_project_configures(tmp_path, capsys, monkeypatch):
    import json

    from .conftest import write_jsonl

    chats = write_jsonl(tmp_path / "chats.jsonl", 150)
    monkeypatch.chdir(tmp_path)
    outside = cli.main(["data", "check", str(chats)])
    capsys.readouterr()
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"fineTuneMinExamples": 100}}))
    inside = cli.main(["data", "check", str(chats)])

    assert outside == 1, "outside the project the training code's default of 200 applies"
    assert inside == 0, "cdk.json's fineTuneMinExamples is what the deployed pipeline needs"


def _handlers(parser: argparse.ArgumentParser):
    """Every subcommand handler reachable from ``parser``."""
    handler = parser.get_default("command")
    if handler is not None:
        yield handler
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _handlers(sub)


@pytest.mark.parametrize("group", commands.GROUPS, ids=lambda group: group.__name__.rsplit(".", 1)[-1])
def test_each_command_group_registers_only_its_own_handlers(group):
    # Given a root parser that only one command group registers into
    parser = argparse.ArgumentParser(prog="ladder")
    group.register(parser.add_subparsers())

    # Then it added commands, and each runs a handler defined in that group's module (beside register)
    handlers = list(_handlers(parser))
    assert handlers
    assert {handler.__module__ for handler in handlers} == {group.__name__}


def test_the_root_parser_lists_the_groups_in_registry_order(capsys):
    # When the top-level help is printed
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out

    # Then the commands appear in the order of the registry, none missing
    listed = out[out.index("COMMAND\n") :]
    names = [group.__name__.rsplit(".", 1)[-1] for group in commands.GROUPS]
    positions = [listed.index(f"    {name} ") for name in names]
    assert positions == sorted(positions)
    assert names == ["ask", "docs", "doctor", "data", "examples", "justify", "finetune", "eval"]


def test_json_output_is_indented_and_keeps_non_ascii_text(capsys):
    # Given a document with text outside ASCII, as answers and file names often are
    document = {"answer": "Jahresurlaub: 30 Tage, café", "items": [1, 2]}

    # When it is printed for --json
    console.print_json(document)

    # Then it is indented JSON that reads back the same, the text as written rather than \u escapes
    out = capsys.readouterr().out
    assert json.loads(out) == document
    assert "café" in out
    assert '\n  "answer"' in out

"""`ladder doctor --region`: the same as ``-c region=REGION``, as the other commands accept it."""

from __future__ import annotations

from .test_doctor import account  # noqa: F401 (the doctor's stubbed account, a fixture)


def test_doctor_accepts_region_as_the_other_commands_do(account, capsys):  # noqa: F811
    account.all_pass()

    code, out, err = account.doctor(capsys, "--region", "us-west-2")

    # The checks ran against us-west-2: the bootstrap role they look for is that region's.
    assert out.splitlines()[0].endswith(" in us-west-2"), out + err
    assert "cfn-exec-role-123456789012-us-west-2 does not exist" in out and code == 1


def test_a_bad_optional_switch_names_every_accepted_value(capsys):
    from ladder import cli

    code = cli.main(["doctor", "-c", "waf=maybe"])

    assert code == 1
    err = capsys.readouterr().err
    assert (
        "-c waf=maybe is invalid: expected a boolean: true or false, or empty for the profile's default"
        in err
    )

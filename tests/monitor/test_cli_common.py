"""monitor.cli.common: how commands end when something goes wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from monitor.cli.common import get_config, handle_errors
from monitor.logs import configure_logging, get_logger


def _command_raising(exc: Exception) -> click.Command:
    @click.command()
    @handle_errors
    def command() -> None:
        raise exc

    return command


def test_a_reader_that_goes_away_ends_the_command_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    # `socialmon alerts list | head`: the pipe closes; no "BrokenPipeError" line, no exit 3
    with pytest.raises(SystemExit) as info:
        _command_raising(BrokenPipeError(32, "Broken pipe")).main([], standalone_mode=True)
    assert info.value.code == 1
    assert "BrokenPipeError" not in capsys.readouterr().err


def test_an_unexpected_error_is_one_line_with_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _command_raising(RuntimeError("boom")).main([], standalone_mode=True)
    assert info.value.code == 3
    assert capsys.readouterr().err == "socialmon: RuntimeError: boom\n"


CONFIG = """\
database: "sqlite:///{db}"
accounts:
  - {{id: uni-x, platform: x, handle: Uni, name: Uni, role: central, language: {{mode: bilingual}}}}
"""


def _log_after_get_config(tmp_path: Path, capsys: pytest.CaptureFixture[str], **kwargs: str) -> str:
    path = tmp_path / "socialmon.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "sm.db"))
    capsys.readouterr()
    get_config(str(path), **kwargs)
    log = get_logger()
    log.info("routine line")
    log.warning("attention line")
    return capsys.readouterr().err


def test_one_shot_commands_log_warnings_but_not_routine_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `socialmon poll` prints a table: an info line per account on stderr would repeat it
    monkeypatch.delenv("SOCIALMON_LOG_LEVEL", raising=False)
    err = _log_after_get_config(tmp_path, capsys)
    assert "attention line" in err and "routine line" not in err
    # the service keeps its full log
    assert "routine line" in _log_after_get_config(tmp_path, capsys, log_level="INFO")


def test_socialmon_log_level_overrides_and_a_bad_one_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALMON_LOG_LEVEL", "info")
    assert "routine line" in _log_after_get_config(tmp_path, capsys)
    monkeypatch.setenv("SOCIALMON_LOG_LEVEL", "loud")
    err = _log_after_get_config(tmp_path, capsys)
    assert "SOCIALMON_LOG_LEVEL='loud' is not DEBUG, INFO, WARNING or ERROR" in err
    assert "routine line" not in err


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    configure_logging()

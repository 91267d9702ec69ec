"""``%mlp`` through a real InteractiveShell: dispatch, help, env, bad input."""

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from mlp_magics.registry import REGISTRY


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "mlp_magics")
    yield sh
    InteractiveShell.clear_instance()


def test_help_lists_every_subcommand(shell):
    text = str(shell.run_line_magic("mlp", "help"))
    for name, sub in REGISTRY.items():
        assert name in text
        assert sub.help in text


def test_help_for_one_subcommand(shell):
    text = str(shell.run_line_magic("mlp", "help env"))
    assert "usage: %mlp env" in text
    assert "--no-service" in text


def test_env_names_user_profile_and_versions(shell, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("MLP_PROFILE", "cpu-large")
    monkeypatch.setenv("MLP_PROFILE_NAME", "CPU large")
    monkeypatch.setenv("CPU_LIMIT", "2")
    monkeypatch.setenv("MEM_LIMIT", str(8 * 1024**3))
    monkeypatch.delenv("MLP_SERVICE_URL", raising=False)
    report = shell.run_line_magic("mlp", "env")
    text = repr(report)
    assert "alice" in text
    assert "CPU large [cpu-large]" in text
    assert "limit 8.0 GiB" in text
    assert "gpus         none" in text
    for pkg in ["lightgbm", "torch", "lightning", "dask", "bentoml", "papermill"]:
        assert pkg in text
    assert "mlp service  unreachable (MLP_SERVICE_URL is not set" in text
    assert "<table class='mlp-env'>" in report._repr_html_()


def test_env_reports_an_unreachable_service_without_failing(shell, monkeypatch):
    monkeypatch.setenv("MLP_SERVICE_URL", "http://127.0.0.1:9/services/mlp/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "x")
    text = repr(shell.run_line_magic("mlp", "env"))
    assert "unreachable" in text


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("", "usage: %mlp SUBCOMMAND"),
        ("garbage", "unknown subcommand 'garbage'"),
        ("enc", "did you mean env"),
        ("env --bogus", "usage: %mlp env"),
        ('env "unterminated', "cannot parse arguments"),
        ("help nothing", "unknown subcommand 'nothing'"),
    ],
)
def test_bad_input_raises_usage_error(shell, line, needle):
    with pytest.raises(UsageError, match=needle.replace("[", r"\[")):
        shell.run_line_magic("mlp", line)


def test_kernel_keeps_working_after_bad_input(shell):
    result = shell.run_cell("%mlp garbage")
    assert not result.success
    assert shell.run_cell("1 + 1").result == 2


def test_line_only_subcommand_refuses_a_cell(shell):
    with pytest.raises(UsageError, match="takes no cell"):
        shell.run_cell_magic("mlp", "env", "x = 1")


def test_registering_twice_is_refused():
    from mlp_magics.registry import subcommand

    with pytest.raises(ValueError, match="registered twice"):
        subcommand("env", "again")(lambda *_: None)

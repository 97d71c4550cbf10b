"""The CLI: --help everywhere, JSON output, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from generator.cli import main
from tests.fixtures_generator import REPO


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "command", ["train", "finetune", "generate", "evaluate", "import-corpus"]
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_missing_checkpoint_is_one_line_without_traceback(tmp_path):
    result = run_cli(
        "generate", "--checkpoint", str(tmp_path / "none"), "--content-type", "slogan"
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_weights_are_reported(trained_tiny_checkpoint, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(trained_tiny_checkpoint, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    assert (
        main(["generate", "--checkpoint", str(broken), "--content-type", "slogan"]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "truncated" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--content-type", "slogan", "--top-p", "1.5"], "top_p"),
        (["--content-type", "poem"], "content_type must be one of"),
        (
            ["--content-type", "slogan", "--persona", "{x"],
            "--persona is not valid JSON",
        ),
        ([], "--content-type is required"),
    ],
)
def test_bad_generation_parameters_exit_2(
    args, message, trained_tiny_checkpoint, capsys
):
    assert main(["generate", "--checkpoint", str(trained_tiny_checkpoint), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_option_value_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--out", "x", "--max-steps", "0"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "must be a positive integer" in err and err.count("\n") == 1


def test_generate_json_prints_candidates(trained_tiny_checkpoint, capsys):
    code = main(
        [
            "generate",
            "--checkpoint",
            str(trained_tiny_checkpoint),
            "--content-type",
            "slogan",
            "--product",
            "Aurora",
            "-n",
            "2",
            "--max-new-tokens",
            "12",
            "--seed",
            "4",
            "--json",
        ]
    )
    assert code == 0
    candidates = json.loads(capsys.readouterr().out)
    assert len(candidates) == 2
    assert {"text", "token_count", "mean_logprob", "params", "seed", "index"} <= set(
        candidates[0]
    )
    assert candidates[0]["seed"] == 4


def test_import_corpus_reports_the_bad_line(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"text": "Hi", "content_type": "slogan", "language": "en"}\n'
        '{"text": "Yo", "content_type": "slogan"}\n'
    )
    assert main(["import-corpus", str(source), str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"{source}:2: language is required" in err and err.count("\n") == 1
    assert not (tmp_path / "out.jsonl").exists()


def test_import_corpus_writes_jsonl(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text(
        "text,content_type,language,keywords\nBig sound.,slogan,en,a; b\n"
    )
    out = tmp_path / "out.jsonl"
    assert main(["import-corpus", str(source), str(out)]) == 0
    assert json.loads(out.read_text())["keywords"] == ["a", "b"]
    assert "wrote 1 validated rows" in capsys.readouterr().out

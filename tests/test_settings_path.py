"""One settings path (issue 25, item 3): the deployment's settings reach every stage as one object,
and two bugs of the old paths stay fixed: ``CALLSCOPE_LANGUAGE=auto`` (which ``callscope analyze``
takes) no longer stops ``callscope serve``, and an English-only ``CALLSCOPE_MODEL_DIR`` no longer
stands in for the multilingual Whisper base that other languages are handed to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.reference import DATA
from tests.support.server import running_service
from callscope.transcription.weights import resolve_model_dir

GERMAN = DATA / "multilingual" / "audio" / "fleurs_de-001.ogg"  # "Er griff auch alles an, was ins Wasser kam …"


def test_language_auto_starts_the_service_and_detects_per_call(tmp_path):
    from callscope.service.config import ServiceSettings

    assert ServiceSettings.from_env(language="auto").language is None
    with running_service(tmp_path / "data", None, CALLSCOPE_LANGUAGE="auto") as svc, svc.client(None) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200


def test_an_english_only_model_dir_hands_german_to_the_real_whisper_base(tmp_path):
    env = dict(os.environ, CALLSCOPE_MODEL_DIR=str(resolve_model_dir("tiny.en")))
    proc = subprocess.run([sys.executable, "-m", "callscope.cli", "analyze", str(GERMAN), "--out", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "fleurs_de-001.json").read_text())
    text = " ".join(u["text"] for u in result["utterances"])
    assert result["language"] == "de", (result["language"], result["language_note"])
    assert "Wasser" in text, text  # German words from Whisper base, not tiny.en's English
    assert "English-only" in (result["language_note"] or ""), result["language_note"]


def test_the_process_environment_is_read_in_one_module():
    """Settings come from the settings objects; only ``environment.py`` touches ``os.environ``."""
    root = Path(__file__).resolve().parents[1]
    readers = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                     if not {"tests", "benchmarks", ".venv"} & set(path.relative_to(root).parts)
                     and ("os.environ" in (text := path.read_text()) or "getenv(" in text))
    assert readers == ["environment.py"], readers


def test_the_cli_and_the_service_build_analysis_settings_with_one_builder(tmp_path):
    """Only ``build_analysis_settings`` makes an ``AnalysisSettings`` in the product; the service's
    settings reach every stage through it (on main the service and the CLI each built their own,
    setting different fields)."""
    import ast

    from callscope.analysis.pipeline import build_analysis_settings
    from callscope.service.config import ServiceSettings
    from callscope.service.worker import analysis_settings

    root = Path(__file__).resolve().parents[1]
    makers = []
    for path in root.rglob("*.py"):
        if {"tests", "benchmarks", ".venv", ".typecheck"} & set(path.relative_to(root).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "AnalysisSettings":
                makers.append(str(path.relative_to(root)))
    assert set(makers) == {"analysis/pipeline.py"}, makers  # the builder, and the default it gives

    head = tmp_path / "head.npz"
    head.write_bytes(b"")
    svc = ServiceSettings(data_dir=tmp_path, language="sv", languages="sv,fi", lone_speaker_role="customer",
                          reasons_language="sv", agent_acoustic_emotion=True, max_duration_h=1,
                          sentiment_head=head, unsupported_language="transcribe")
    built = analysis_settings(svc)
    assert built == build_analysis_settings(
        model=svc.whisper_model, language="sv", languages=("sv", "fi"), unsupported_language="transcribe",
        redaction=svc.redaction, max_duration_s=3600.0, agent_acoustic_emotion=True, lone_speaker_role="customer",
        reasons_language="sv", sentiment_head=str(head),
        arousal_population_path=str(tmp_path.resolve() / "arousal-population.json"))
    assert built.scoring.lone_speaker_role == "customer" and built.scoring.reasons_language == "sv"
    assert built.asr.language == "sv" and built.languages == ("sv", "fi") and built.max_duration_s == 3600.0


def test_each_per_call_field_is_declared_once():
    """An upload's form and a backfill manifest take the per-call settings as CallSettings declares
    them (on main the upload declared all four again, with its own rules)."""
    from callscope.analysis.call_settings import CallSettings
    from callscope.service.intake import UploadMeta

    assert issubclass(UploadMeta, CallSettings)
    assert not set(CallSettings.model_fields) & set(UploadMeta.__annotations__)  # inherited, not declared again
    meta = UploadMeta.model_validate({"channel_map": "customer,agent", "direction": "outbound", "team": "t"})
    assert meta.call_settings() == CallSettings(channel_map=("customer", "agent"), direction="outbound")


def test_analyze_takes_the_deployments_settings_from_the_settings_module(tmp_path):
    """``callscope analyze`` reads no CALLSCOPE_* variable itself: an option left out takes the
    value ServiceSettings read, and an invalid one stops it at once naming the variable (on main
    typer read 14 of them behind the settings module's back, and named only the option)."""
    root = Path(__file__).resolve().parents[1]
    readers = sorted(str(p.relative_to(root)) for p in (root / "cli").glob("*.py") if "envvar=" in p.read_text())
    assert readers == []
    env = {**os.environ, "CALLSCOPE_DATA_DIR": str(tmp_path), "CALLSCOPE_REASONS_LANGUAGE": "xx"}
    run = subprocess.run([sys.executable, "-m", "callscope.cli", "analyze", str(root / "samples" / "jfk.flac"),
                          "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "CALLSCOPE_REASONS_LANGUAGE" in run.stdout + run.stderr, run.stdout + run.stderr
    assert not (tmp_path / "out").exists()

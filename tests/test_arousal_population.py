"""The deployment's own population for arousal (issue 30, item 4): short speakers are measured
against the callers this deployment has heard, not only against the shipped prior."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest

from callscope.analysis.call_settings import CallSettings
from callscope.audio.decode import decode_file
from callscope.scoring.arousal_prior import FEATURES, load_prior
from callscope.scoring.emotion import EmotionThresholds
from callscope.scoring.fit_arousal_prior import _rows
from callscope.scoring.population_baseline import BINS, MIN_SPEAKERS, PopulationBaseline


def _speaker_rows(audio_dir, speaker: str, n: int) -> list[list[dict]]:
    """Whole-clip arousal features of ``n`` EmoDB clips by ``speaker`` (one speaker each, as one
    clip per file is): real recordings, no labels used."""
    with open(audio_dir / "emodb" / "labels.tsv", newline="") as f:
        clips = [r for r in csv.DictReader(f, delimiter="\t") if r["speaker"] == speaker][:n]
    return [_rows(decode_file(audio_dir / "emodb" / c["file"]).mono(), c["text_de"]) for c in clips]


def test_the_histograms_give_the_median_and_spread_of_the_speakers_within_a_bin(audio_dir, tmp_path):
    speakers = _speaker_rows(audio_dir, "08", MIN_SPEAKERS)
    population = PopulationBaseline(tmp_path / "population.json")
    shipped = load_prior(False)
    for i, rows in enumerate(speakers):
        assert population.prior(False, shipped) is shipped  # too few speakers yet: the shipped prior
        assert population.add_speaker(False, rows)
    prior = population.prior(False, shipped)
    assert prior.source == "deployment" and f"{MIN_SPEAKERS} speakers, wideband" in prior.version
    for key in FEATURES:
        values = np.array([np.median([r[key] for r in rows if r[key] is not None]) for rows in speakers
                           if any(r[key] is not None for r in rows)])
        low, high = np.sort(values)[(len(values) - 1) // 2], np.sort(values)[len(values) // 2]  # the middle one or two
        assert low - BINS[key][2] <= prior.median[key] <= high + BINS[key][2], key
    assert prior.spread == shipped.spread  # the scale stays the shipped prior's
    assert population.prior(True, load_prior(True)).source == "population"  # the telephone band heard nobody
    population.save()
    again = PopulationBaseline(tmp_path / "population.json")  # another process, the same counts
    assert again.prior(False, shipped) == prior


@pytest.fixture
def own_population(analyzer, tmp_path):
    """The session's analyser with a fresh population of its own for one test, then its old one back."""
    scorer = analyzer.scorer
    old = scorer.population
    scorer.population = PopulationBaseline(tmp_path / "population.json")
    yield scorer.population
    scorer.population = old


def test_a_lone_speaker_is_measured_against_the_deployment_once_it_has_heard_enough(analyzer, audio_dir, own_population):
    """Twenty clips of speaker 08 make the population; speaker 03's angry and sad readings of one
    sentence are then measured against it. Against the shipped prior (fitted on quieter, darker
    recordings) both sit at the top of the scale; against the deployment's own, the sad one is
    below the high-arousal threshold and the angry one above it."""
    for rows in _speaker_rows(audio_dir, "08", MIN_SPEAKERS):
        own_population.add_speaker(False, rows)
    as_customer = CallSettings(lone_speaker_role="customer")
    anger = analyzer.analyze(audio_dir / "emodb" / "wav" / "03a04Wc.wav", call=as_customer)
    sadness = analyzer.analyze(audio_dir / "emodb" / "wav" / "03a04Ta.wav", call=as_customer)
    high = EmotionThresholds().high_arousal
    for r in (anger, sadness):
        assert r.speaker_scores[0].arousal_baseline == "deployment"
        assert r.call_scores.versions["arousal_prior"].startswith("deployment-population/1 (")
    mean = lambda r: sum(u.emotion.arousal for u in r.utterances) / len(r.utterances)  # noqa: E731
    assert mean(anger) >= high > mean(sadness)
    assert own_population.heard(False) == MIN_SPEAKERS + 2  # each call's customer joined the population
    assert (own_population.path).is_file()


def test_the_shipped_prior_only_when_the_deployment_turns_the_population_off(analyzer, audio_dir, own_population):
    for rows in _speaker_rows(audio_dir, "08", MIN_SPEAKERS):
        own_population.add_speaker(False, rows)
    scorer = analyzer.scorer
    assert scorer.population_prior(False).source == "deployment"
    assert scorer.population_prior(False, replace(scorer.settings, arousal_population=False)) is load_prior(False)

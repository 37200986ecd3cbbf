"""The ``callscope`` command line."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from callscope.cli.common import _configure_logging, _quiet_libraries, _service_settings, console
from callscope.errors import CallscopeError, MissingWeightsError
from callscope.transcription.redaction import KINDS as PII_KINDS

app = typer.Typer(
    help="Speech and voice call analytics for contact centres, offline: transcripts, speakers, scores.",
    no_args_is_help=True,
    add_completion=False,
)


def package_version() -> str:
    """The installed callscope's version (its package metadata), "unknown" when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("callscope")
    except PackageNotFoundError:
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"callscope {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print callscope's version and exit.")] = False,
) -> None:
    """Speech and voice call analytics for contact centres, offline: transcripts, speakers, scores."""


class OutputFormat(str, Enum):
    json = "json"
    rttm = "rttm"
    srt = "srt"
    vtt = "vtt"
    txt = "txt"


class EngineName(str, Enum):
    faster_whisper = "faster-whisper"
    openai_whisper = "openai-whisper"


class ReasonsLanguage(str, Enum):
    en = "en"
    sv = "sv"


class UnsupportedPolicy(str, Enum):
    stop = "stop"
    transcribe = "transcribe"


class Direction(str, Enum):
    inbound = "inbound"
    outbound = "outbound"


class LoneRole(str, Enum):
    customer = "customer"
    agent = "agent"
    unknown = "unknown"


class DeviceName(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"




def _unique_stem(path: Path, used: set[str]) -> str:
    stem, n = path.stem, 2
    while stem in used:
        stem, n = f"{path.stem}-{n}", n + 1
    used.add(stem)
    return stem


def _summary(result) -> Panel:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("duration", f"{result.duration_s:.1f} s at {result.sample_rate} Hz, {result.channels} ch ({result.channel_layout})")
    if result.languages:
        given = ", ".join(f"{'ch ' + str(x.channel) + ' ' if x.channel is not None else ''}{x.language} "
                          f"({x.source}{'' if x.source == 'forced' else f' {x.confidence:.2f}'}"
                          f"{'' if x.supported else ', outside this deployment'})" for x in result.languages)
        table.add_row("language", given + (f"; {result.language_note}" if result.language_note else ""))
    if result.status == "unsupported_language":
        table.add_row("status", "[yellow]not transcribed[/yellow]: the language is outside this deployment's languages")
    t_rel = result.transcript_reliability
    if t_rel is not None and t_rel.score is not None:
        colour = "green" if t_rel.score >= t_rel.threshold else "red"
        table.add_row("transcript", f"reliability [{colour}]{t_rel.score:.2f}[/{colour}]; "
                      f"{100 * t_rel.unreliable_share:.0f} % of the words in unreliable passages"
                      + (f"; {t_rel.speech_without_words_s:.0f} s of speech without words"
                         if t_rel.speech_without_words_s >= 1 else ""))
    table.add_row("speakers", ", ".join(
        f"{s.id}{'' if s.channel is None else f' (ch {s.channel})'}{'' if not s.role else f' {s.role}'}: {s.talk_time_s:.1f} s"
        for s in result.speakers
    ) or ("not analysed (language outside this deployment)" if result.status == "unsupported_language"
           else "none (no speech found)"))
    c = result.call_scores
    if c is not None:
        colour = {"green": "green", "yellow": "yellow", "orange": "dark_orange", "red": "red"}.get(str(c.escalation.value), "white")
        level = "n/a" if c.escalation.value is None else f"[{colour}]{c.escalation.value}[/{colour}] ({c.escalation.confidence:.2f})"
        table.add_row("escalation", f"{level}: " + "; ".join(c.reasons))
        for sp in result.speaker_scores:
            fmt = lambda v: "–" if v is None else f"{float(v):+.2f}"  # noqa: E731
            table.add_row(f"  {sp.speaker}", f"sentiment start {fmt(sp.sentiment_start.value)} → end {fmt(sp.sentiment_end.value)}, "
                          f"mean {fmt(sp.sentiment_mean.value)}; {sp.words_per_minute or 0:.0f} wpm; acoustic emotion {'on' if sp.acoustic_emotion else 'off'}")
        table.add_row("silence", f"{c.silence_s:.1f} s (longest {c.longest_silence_s:.1f} s); overlap {c.overlap_s:.1f} s; "
                      f"interruptions {sum(c.interruptions_by.values())}")
    for warning in result.decode_warnings:
        table.add_row("decode", f"[yellow]warning[/yellow]: {escape(warning)} (analysed as far as it decoded; "
                                "--strict refuses such a file)")
    table.add_row("utterances", str(len(result.utterances)))
    t = result.timings_s
    rtf = t.total / result.duration_s if result.duration_s else 0.0
    table.add_row("time", f"{t.total:.1f} s (RTF {rtf:.3f}): decode {t.decode:.1f}, vad {t.vad:.1f}, asr {t.asr:.1f}, "
                  f"diarise {t.diarise:.1f}, features {t.features:.1f}, sentiment {t.sentiment:.1f}, fusion {t.fusion:.1f}")
    # each utterance in a row of its own: time and speaker in their columns, the words (cut at a
    # word, with an ellipsis) wrapped under themselves, never back to the panel's edge
    said = Table.grid(padding=(0, 1))
    said.add_column(justify="right", style="dim", no_wrap=True)
    said.add_column(style="bold", no_wrap=True)
    said.add_column(overflow="fold")
    for u in result.utterances[:6]:
        marks = ((f"[dim]({u.emotion.label} {u.sentiment.score:+.2f})[/dim] " if u.emotion and u.sentiment else "")
                 + (f"[red]unreliable ({u.reliability.score:.2f}: {'; '.join(u.reliability.marks)})[/red] "
                    if u.reliability and not u.reliability.reliable else ""))
        said.add_row(f"{u.start:.1f}s", u.speaker, marks + escape(_cut_at_word(u.text, SUMMARY_CHARS)))
    if len(result.utterances) > 6:
        said.add_row("", "", f"[dim]… {len(result.utterances) - 6} more[/dim]")
    body = Table.grid()
    body.add_row(table)
    if result.utterances:
        body.add_row("")
        body.add_row(said)
    return Panel(body, title=result.file, subtitle=f"{result.engine} {result.model}", expand=False)


#: characters of an utterance the summary shows
SUMMARY_CHARS = 90


def _cut_at_word(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else cut at the last space before the
    limit (a single over-long word at the limit) with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:") + "…"


@app.command()
def analyze(
    files: Annotated[list[Path], typer.Argument(help="Recordings (WAV incl. mu-law/A-law, MP3, FLAC, Ogg/Opus, M4A).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the results (created if missing).")] = Path("callscope-results"),
    fmt: Annotated[list[OutputFormat], typer.Option("--format", "-f", help="Output format; repeat for several.")] = [OutputFormat.json],  # noqa: B006
    model: Annotated[str | None, typer.Option(help="Whisper model: base (bundled, multilingual), tiny.en (bundled, English only), or a model added with `callscope models add`. Default: the registered default model, else base.")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="A CTranslate2 Whisper model directory to use instead of the bundled weights; when it is English-only, other languages go to the bundled Whisper base. Default: CALLSCOPE_MODEL_DIR.")] = None,
    model_dir_for: Annotated[list[str] | None, typer.Option(
        "--model-dir-for", metavar="LANG=DIR",
        help="A CTranslate2 Whisper directory for one language (e.g. sv=/models/whisper-sv, a Swedish fine-tuned "
             "Whisper); repeat for several. Default: CALLSCOPE_MODEL_DIRS.")] = None,
    engine: Annotated[EngineName, typer.Option(help="ASR engine (same weights either way).")] = EngineName.faster_whisper,
    device: Annotated[DeviceName, typer.Option(help="auto uses CUDA when present (float16 there, int8 on CPU).")] = DeviceName.auto,
    batch_size: Annotated[int | None, typer.Option(
        min=0, max=64, help="Windows of up to 30 s decoded at once by faster-whisper's batched pipeline (0: one after "
                            "another). Default: 8 on CUDA, 0 on CPU.")] = None,
    beam_size: Annotated[int, typer.Option(min=1, max=10, help="Beam width (1 = greedy, the default; 5 costs ~60 % more ASR time on CPU for a few fewer errors).")] = 1,
    language: Annotated[str | None, typer.Option(
        help="Spoken language (en, sv, da, no, fi, de, fr, es, pl), or auto: detected per call (and per channel) "
             "among --languages. An English-only model hands non-English speech to Whisper base. "
             "Default: CALLSCOPE_LANGUAGE, else auto.")] = None,
    reasons_language: Annotated[ReasonsLanguage | None, typer.Option(
        help="Language of the escalation reasons. Default: CALLSCOPE_REASONS_LANGUAGE, else en.")] = None,
    languages: Annotated[str | None, typer.Option(
        help="This deployment's languages, comma separated. Detection hears any language Whisper knows; a call "
             "in another is reported as such (see --unsupported-language). Default: CALLSCOPE_LANGUAGES, else "
             "en,sv,da,no,fi,de,fr,es,pl.")] = None,
    unsupported_language: Annotated[UnsupportedPolicy | None, typer.Option(
        help="A call heard in a language outside --languages: stop after language ID (its language is reported, "
             "no transcript) or transcribe it in its own language (sentiment marked not validated). Never in "
             "another language. Default: CALLSCOPE_UNSUPPORTED_LANGUAGE, else stop.")] = None,
    min_speakers: Annotated[int, typer.Option(min=1, help="Fewest speakers in a mono call.")] = 1,
    max_speakers: Annotated[int, typer.Option(min=1, help="Most speakers in a mono call.")] = 4,
    max_duration_h: Annotated[float, typer.Option(min=0.0, help="Reject recordings longer than this (hours).")] = 4.0,
    threads: Annotated[int, typer.Option(min=0, help="CPU threads (0 = all cores).")] = 0,
    scores: Annotated[bool, typer.Option("--scores/--no-scores", help="Sentiment, emotion timeline and call scores.")] = True,
    channel_map: Annotated[str, typer.Option(help="Roles of channel 0,1 in dual-channel calls.")] = "agent,customer",
    correct_channel_map: Annotated[bool | None, typer.Option(
        "--correct-channel-map",
        help="Let the words overrule --channel-map when they contradict it with confidence >= 0.95 "
             "(off: the map is kept and role_note flags the contradiction). Default: CALLSCOPE_CORRECT_CHANNEL_MAP, "
             "else off.")] = None,
    direction: Annotated[Direction | None, typer.Option(
        help="inbound (the customer called) or outbound (the agent called; the customer answers first). Default: "
             "CALLSCOPE_DIRECTION, else inferred from the whole call (who answers, who introduces the company and "
             "makes offers, who gives personal data).")] = None,
    lone_speaker_role: Annotated[LoneRole | None, typer.Option(
        help="Role of the only speaker of a one-speaker recording (customer for voicemail or IVR messages: "
             "acoustic emotion then applies). Default: CALLSCOPE_LONE_SPEAKER_ROLE, else unknown.")] = None,
    agent_acoustic_emotion: Annotated[bool | None, typer.Option(
        "--agent-acoustic-emotion",
        help="Opt this deployment in to emotion from agents' voices (banned in EU workplaces, AI Act Art. 5(1)(f)). "
             "Off: acoustic emotion for customers only; text sentiment for everyone. Default: "
             "CALLSCOPE_AGENT_ACOUSTIC_EMOTION, else off.")] = None,
    redact_pii: Annotated[bool | None, typer.Option(
        "--redact/--no-redact",
        help="Replace personal data in the transcript (cards, national IDs, IBANs, phone numbers, e-mail addresses, "
             "user names, introduced names) by [KIND] placeholders before anything is scored or written. "
             "Default: CALLSCOPE_REDACT, else on.")] = None,
    keep_pii: Annotated[list[str] | None, typer.Option(
        "--keep-pii", help=f"A kind of personal data to leave in the transcript ({', '.join(PII_KINDS)}); "
                           "repeat for several. Default: CALLSCOPE_REDACT_KEEP.")] = None,
    pseudonymise_pii: Annotated[list[str] | None, typer.Option(
        "--pseudonymise-pii", help="A kind of personal data to replace by a keyed pseudonym ([EMAIL:3f9a1c2b7d], the "
                                   "same for the same value in every call) instead of [EMAIL]; the key is "
                                   "CALLSCOPE_PSEUDONYM_KEY. Repeat for several. Default: CALLSCOPE_REDACT_PSEUDONYMISE.")] = None,
    sentiment_head: Annotated[Path | None, typer.Option(
        "--sentiment-head", exists=True, dir_okay=False,
        help="A sentiment head file to score with instead of the shipped one (e.g. from `callscope calibrate "
             "--sentiment`). Default: CALLSCOPE_SENTIMENT_HEAD, as the service reads it.")] = None,
    arousal_population: Annotated[Path | None, typer.Option(
        "--arousal-population", dir_okay=False,
        help="A file that keeps this deployment's population of callers' voices across runs (short speakers' "
             "arousal is measured against it once 20 were heard). Default: learnt within this run only; "
             "CALLSCOPE_AROUSAL_POPULATION=0 turns it off (the shipped prior).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-call summary.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse a recording that decodes only in part (truncated, or corrupt after some point) "
                         "instead of analysing what decoded with a warning (decode_warnings).")] = False,
) -> None:
    """Transcribe, diarise and score call recordings; write one result per file to --out.

    Every file is checked first (it exists, is audio, is not too long, decodes at its start):
    the bad ones are reported at once, before any model loads. Each file is then analysed on its
    own, the models loaded as the first file needs them: a file that fails is reported (one line,
    with the reason) and the others are still processed. Exit code 1 if any file failed, 2 if
    nothing could start.
    """
    _quiet_libraries()
    if min_speakers > max_speakers:
        raise typer.BadParameter("--min-speakers must not exceed --max-speakers")
    from callscope.analysis.call_settings import CallSettings
    from callscope.scoring.roles import parse_channel_map
    from callscope.transcription.language import SUPPORTED_LANGUAGES, parse_languages

    # an option not given takes the deployment's CALLSCOPE_* value, read and checked in one place
    # (service/config.py; an invalid one stops here, exit 2, naming the variable)
    deployment = _service_settings()
    languages = languages if languages is not None else deployment.languages
    language = language if language is not None else (deployment.language or "auto")
    reasons = reasons_language.value if reasons_language else deployment.reasons_language
    unsupported = unsupported_language.value if unsupported_language else deployment.unsupported_language
    correct_channel_map = deployment.correct_channel_map if correct_channel_map is None else correct_channel_map
    agent_acoustic_emotion = deployment.agent_acoustic_emotion if agent_acoustic_emotion is None else agent_acoustic_emotion
    call_direction = direction.value if direction else deployment.direction
    lone_role = lone_speaker_role.value if lone_speaker_role else deployment.lone_speaker_role
    redact_pii = deployment.redact if redact_pii is None else redact_pii
    keep_pii = keep_pii or ([deployment.redact_keep] if deployment.redact_keep.strip() else [])
    pseudonymise_pii = pseudonymise_pii or ([deployment.redact_pseudonymise] if deployment.redact_pseudonymise.strip() else [])
    sentiment_head = sentiment_head or deployment.sentiment_head
    model_dir = model_dir or deployment.model_dir
    model_dir_for = model_dir_for or ([deployment.model_dirs] if deployment.model_dirs.strip() else [])
    try:
        allowed = parse_languages(languages)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--languages") from exc
    language = language.strip().lower()
    if language not in ("auto", "") and language not in SUPPORTED_LANGUAGES:
        raise typer.BadParameter(f"{language!r}: choose auto or one of {', '.join(SUPPORTED_LANGUAGES)}",
                                 param_hint="--language")
    forced = None if language in ("auto", "") else language
    from callscope.transcription.engine import parse_model_dirs

    try:
        model_dirs = parse_model_dirs([x for item in model_dir_for or [] for x in item.split(",")])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model-dir-for") from exc
    from callscope.transcription import model_registry

    try:
        registered = model_registry.load()
    except model_registry.RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    default_model = next((m.name for m in registered.values() if m.default), "base")
    model = model or default_model
    if model not in ("base", "tiny.en", "small") and model not in registered:
        raise typer.BadParameter(f"{model!r}: choose base, tiny.en or a registered model "
                                 f"({', '.join(registered) or 'none registered: callscope models add'})",
                                 param_hint="--model")
    given = {lang for lang, _ in model_dirs}  # a directory given for a language goes before a registered one
    model_dirs = model_dirs + tuple((lang, path) for lang, path in model_registry.language_dirs() if lang not in given)
    try:
        call_settings = CallSettings(  # what each call carries
            channel_map=parse_channel_map(channel_map), direction=call_direction,
            lone_speaker_role=lone_role if lone_role != "unknown" else None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--channel-map") from exc
    from callscope.transcription.redaction.apply import RedactionPolicy

    try:
        secret = None
        if pseudonymise_pii:
            from callscope.privacy.pseudonyms import deployment_secret

            secret = deployment_secret(deployment)
        redaction = RedactionPolicy.keeping(keep_pii or [], enabled=redact_pii, pseudonymise=pseudonymise_pii or [],
                                            secret=secret)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--keep-pii/--pseudonymise-pii") from exc
    from callscope.audio.decode import probe_file

    failures: list[str] = []
    ready: list[Path] = []
    for path in files:  # before the analysis is imported or a model loads: a mistyped path is answered at once
        try:
            probe_file(path, max_duration_s=max_duration_h * 3600.0)
        except CallscopeError as exc:
            failures.append(str(exc))
            console.print(f"[red]failed:[/red] {exc}")
        else:
            ready.append(path)
    if not ready:
        console.print(f"0 of {len(files)} call(s) analysed, {len(failures)} failed; no model was loaded")
        raise typer.Exit(1)
    from callscope.analysis.formats import write_outputs
    from callscope.analysis.pipeline import LOAD_NAMES, STAGES, Analyzer, build_analysis_settings

    settings = build_analysis_settings(
        model=model, model_dir=str(model_dir) if model_dir else None, model_dirs=model_dirs, language=forced,
        languages=allowed, unsupported_language=unsupported, redaction=redaction,
        max_duration_s=max_duration_h * 3600.0, agent_acoustic_emotion=agent_acoustic_emotion,
        correct_channel_map=correct_channel_map, reasons_language=reasons,
        sentiment_head=str(sentiment_head) if sentiment_head else None, score=scores,
        engine=engine.value, device=device.value, beam_size=beam_size, threads=threads, batch_size=batch_size,
        min_speakers=min_speakers, max_speakers=max_speakers, arousal_population=deployment.arousal_population,
        arousal_population_path=str(arousal_population) if arousal_population else None,
    )
    analyzer = Analyzer(settings, lazy=True)  # each model loads when the first call needs it

    formats = [f.value for f in dict.fromkeys(fmt)]
    outside: list[str] = []
    used: set[str] = set()
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )
    with progress:
        overall = progress.add_task("calls", total=len(ready))
        stage_task = progress.add_task("", total=len(STAGES))
        for path in ready:
            progress.reset(stage_task, total=len(STAGES), description=f"{path.name}: starting")

            def on_stage(stage: str, _p=path) -> None:
                progress.update(stage_task, completed=STAGES.index(stage), description=f"{_p.name}: {stage}")

            def on_load(model: str, _p=path) -> None:
                progress.update(stage_task, description=f"{_p.name}: loading the {model} model (once)")

            analyzer.on_load = on_load
            try:
                result = analyzer.analyze(path, on_stage=on_stage, call=call_settings, strict=strict)
                written = write_outputs(result, out, _unique_stem(path, used), formats)
            except MissingWeightsError as exc:  # nothing after it can run either
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
            except CallscopeError as exc:
                failures.append(str(exc))
                console.print(f"[red]failed:[/red] {exc}")
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop a bulk run
                failures.append(f"{path}: unexpected error: {type(exc).__name__}: {exc}")
                console.print(f"[red]failed:[/red] {path}: unexpected error: {type(exc).__name__}: {exc}")
            else:
                if result.status == "unsupported_language":
                    outside.append(str(path))
                if not quiet:
                    console.print(_summary(result))
                console.print(f"[green]wrote[/green] {', '.join(str(p) for p in written)}")
            progress.advance(overall)
    _EXIT.without_teardown = True  # every output is written and closed
    done = len(files) - len(failures)
    loads = analyzer.load_s
    console.print(f"{done} of {len(files)} call(s) analysed" + (f", {len(failures)} failed" if failures else "")
                  + (f"; {len(outside)} not transcribed (language outside --languages)" if outside else "")
                  + (f"; models loaded once in {sum(loads.values()):.1f} s (not in the calls' times: "
                     + ", ".join(f"{LOAD_NAMES.get(k, k)} {v:.1f}" for k, v in loads.items()) + ")" if loads else ""))
    if failures:
        raise typer.Exit(1)



class _Exit:
    """Set by a command whose work is written and closed when it returns (``analyze``)."""

    without_teardown = False


_EXIT = _Exit()


def main() -> None:
    """The ``callscope`` command. After ``analyze`` the process ends at once, without the
    interpreter's teardown of the model libraries it loaded (about half a second at every run:
    ``benchmarks/startup.py``); its outputs are written and closed by then, stdout, stderr and
    the log are flushed first. Any other command, or ``app()`` called in a process of its own
    making, ends as usual."""
    import logging
    import os
    import sys

    try:
        app()
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    if not _EXIT.without_teardown:
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)

@app.command()
def plot(
    result_json: Annotated[Path, typer.Argument(help="A result written by `callscope analyze` (JSON).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write.")] = Path("timeline.png"),
) -> None:
    """Plot per-speaker sentiment and arousal timelines with escalation bands and utterance markers."""
    from pydantic import ValidationError

    from callscope.analysis.plot import plot_timeline
    from callscope.analysis.schema import CallAnalysis

    try:
        result = CallAnalysis.model_validate_json(result_json.read_text(encoding="utf-8"))
        plot_timeline(result, out)
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {result_json}: file not found")
        raise typer.Exit(1) from exc
    except (ValidationError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] {result_json}: not a callscope result ({type(exc).__name__})")
        raise typer.Exit(1) from exc
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]wrote[/green] {out}")






@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run one worker with the API (the embedded default) in a supervised child process, replaced if it dies; it analyses in a child process of its own, so a bad file cannot take the API down; use --no-worker with `callscope worker`.")] = True,
) -> None:
    """Run the HTTP API (/v1, docs at /docs) and the QA review app (open / in a browser and sign
    in with an API key). Database: CALLSCOPE_DATABASE_URL (SQLite in CALLSCOPE_DATA_DIR by
    default); audio is kept in CALLSCOPE_AUDIO_STORE (CALLSCOPE_DATA_DIR/audio by default).
    Requests need an API key: make the first with `callscope keys create --name NAME --scope admin`. Settings
    (CALLSCOPE_*, see docs/service.md) are checked at start: an invalid one stops the server (exit 2)."""
    _quiet_libraries()
    import os

    import uvicorn

    from callscope.api.app import create_app
    from callscope.api.guard import MAX_REQUEST_HEAD_BYTES

    settings = _service_settings()
    _configure_logging(settings.log_level)
    os.umask(0o077)  # the database, its WAL and the audio the server writes: owner only
    from callscope.privacy.call_keys import KeyringMismatch

    try:
        service = create_app(settings, worker_process=_worker_process if worker else None)
    except KeyringMismatch as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    import gc

    # What start-up built (≈160,000 objects: the app, its libraries and their schemas) lives as long as
    # the server: out of the collector's sight, a full collection no longer walks it (≈90 ms with the
    # interpreter's lock held, every request waiting; the /healthz p99 under load in
    # benchmarks/hostile_rules.py). Objects made later are collected as before.
    gc.collect()
    gc.freeze()
    _say_where(settings, host, port, worker)
    uvicorn.run(service, host=host, port=port,
                log_level=settings.log_level,
                h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES)


def _say_where(settings, host: str, port: int, worker: bool) -> None:
    """What a person starting the server needs: where to open the app and the API docs, where the
    data lives (the database URL without its password), and how to stop it."""
    from sqlalchemy.engine import make_url

    shown = "localhost" if host in ("127.0.0.1", "::1") else ("<this machine's address>" if host in ("0.0.0.0", "::") else host)
    base = f"http://{shown}:{port}"
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    console.print(f"callscope {package_version()} serving\n"
                  f"  app        {base}/  (sign in with an API key: callscope keys create --name NAME --scope admin)\n"
                  f"  API docs   {base}/docs\n"
                  f"  database   {database}\n"
                  f"  audio      {settings.audio_dir}\n"
                  f"  worker     {'one, in this server' if worker else 'none here: run `callscope worker`'}\n"
                  "Stop with Ctrl+C.", highlight=False, soft_wrap=True)


def _worker_process(index: int) -> None:
    _quiet_libraries()
    import os

    from callscope.service.worker import Worker

    os.umask(0o077)

    settings = _service_settings()
    _configure_logging(settings.log_level)
    w = Worker(settings)
    from callscope.privacy.call_keys import KeyringMismatch

    try:
        w.load()  # check the keyring; load the models once, before taking work
    except KeyringMismatch as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from exc
    import threading

    from callscope.alerts.delivery import Dispatcher

    threading.Thread(target=Dispatcher.for_settings(w.sessions, settings).run_forever, name="callscope-alerts",
                     daemon=True).start()  # alerts go out even where no API server runs
    console.print(f"worker {index} ({w.worker_id}) ready")
    w.run_forever()


@app.command("worker")
def worker_cmd(
    processes: Annotated[int, typer.Option("--processes", "-n", min=1, help="Worker processes (each loads the models once); with --ray, worker actors.")] = 1,
    ray_address: Annotated[str | None, typer.Option("--ray", help="Run the workers as actors on the Ray cluster at ADDRESS (host:port, or auto); every node needs the database and the audio store (CALLSCOPE_DATABASE_URL, CALLSCOPE_AUDIO_STORE).")] = None,
    cpus_per_actor: Annotated[float, typer.Option(min=0.5, help="With --ray: CPUs per worker actor (also its ASR threads).")] = 1.0,
    gpus_per_actor: Annotated[float, typer.Option(min=0.0, help="With --ray: GPU share per worker actor (float16 on the GPU).")] = 0.0,
) -> None:
    """Run N worker processes that analyse queued calls (same settings as `serve`). Each
    analyses in a child process capped at CALLSCOPE_WORKER_MEMORY_MB. A worker that dies is
    replaced; SIGTERM or Ctrl-C stops them all. With --ray the workers run as actors on a Ray
    cluster and drain the same queue."""
    from callscope.store.db import migrate

    settings = _service_settings()
    migrate(settings.database_url)
    _check_keyring(settings)  # before any worker starts: a wrong keyring would fail each one again
    if ray_address:
        _workers_on_ray(settings, ray_address, processes, cpus_per_actor, gpus_per_actor)
        return
    from callscope.service.worker_pool import run_pool

    run_pool(_worker_process, processes, say=console.print)


def _check_keyring(settings) -> None:
    """Exit 2 with the reason if this process's keyring cannot open the database's call keys."""
    from callscope.privacy.call_keys import KeyringMismatch, check_keyring
    from callscope.store.db import make_engine, session_factory

    engine = make_engine(settings.database_url)
    try:
        check_keyring(session_factory(engine, keyring_file=settings.keyring_file))
    except KeyringMismatch as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()


def _workers_on_ray(settings, address: str, n: int, cpus_per_actor: float, gpus_per_actor: float) -> None:
    from callscope.backfill.service_workers import run_on_ray
    from callscope.cli.backfill import on_cluster

    _quiet_libraries()
    with on_cluster(address, n, cpus_per_actor, gpus_per_actor) as (n, options, device):
        run_on_ray(settings, n, options, device, cpus_per_actor, say=console.print)


@app.command()
def feed(
    day: Annotated[str, typer.Option("--date", help="The day, YYYY-MM-DD (UTC day of the call).")],
    fmt: Annotated[str, typer.Option("--format", help="ndjson, csv or parquet.")] = "ndjson",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")] = None,
    bom: Annotated[bool, typer.Option("--bom", help="CSV: start with a UTF-8 byte-order mark (for Excel).")] = False,
) -> None:
    """Write the daily call-score feed (the same rows as GET /v1/feeds/daily)."""
    import sys
    from datetime import date as date_cls

    from callscope.analysis.formats import write_atomic
    from callscope.service.feed import FEED_FORMATS, encode, feed_rows
    from callscope.store.db import make_engine, migrate, session_factory

    try:
        when = date_cls.fromisoformat(day)
    except ValueError as exc:
        raise typer.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--date") from exc
    if fmt not in FEED_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FEED_FORMATS)}", param_hint="--format")
    settings = _service_settings()
    migrate(settings.database_url)
    chunks = encode(feed_rows(session_factory(make_engine(settings.database_url)), when), fmt, bom=bom)
    if out is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    else:
        write_atomic(out, b"".join(chunks))
        console.print(f"[green]wrote[/green] {out}")


def _add_admin_commands() -> None:
    from callscope.cli.admin import erase_subject, keys_app, purge, rotate_keyring
    from callscope.cli.backfill import backfill
    from callscope.cli.forms import forms_app
    from callscope.cli.interactions import import_interactions
    from callscope.cli.journeys import journeys
    from callscope.cli.models import models_app
    from callscope.cli.rules import calibrate, rescore, rules_app, topics

    app.add_typer(keys_app, name="keys")
    app.add_typer(models_app, name="models")
    app.command()(purge)
    app.command("erase-subject")(erase_subject)
    app.command("rotate-keyring")(rotate_keyring)
    app.add_typer(rules_app, name="rules")
    app.add_typer(forms_app, name="forms")
    app.command()(rescore)
    app.command()(calibrate)
    app.command()(topics)
    app.command()(journeys)
    app.command("import")(import_interactions)
    app.command()(backfill)


_add_admin_commands()


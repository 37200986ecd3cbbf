"""Draw a call's per-speaker emotion timeline (``callscope plot``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from callscope.analysis.schema import CallAnalysis  # noqa: E402
from callscope.scoring.escalation import EscalationBands  # noqa: E402

BAND_COLOURS = {"green": "#d9f2d9", "yellow": "#fff6cc", "orange": "#ffe0c2", "red": "#fbd0d0"}
LABEL_COLOURS = {"frustrated": "#c0392b", "dissatisfied": "#e67e22", "uncertain": "#8e44ad",
                 "neutral": "#7f8c8d", "satisfied": "#27ae60", "enthusiastic": "#16a085",
                 "empathetic": "#e84393"}  # not the arousal bars' blue
AROUSED, CALM = "#c0392b", "#2980b9"  # arousal bars: above / below the speaker's own baseline


def _why_no_timeline(result: CallAnalysis) -> str:
    """Why a result has no timeline, in words a reviewer can act on."""
    if result.status == "unsupported_language":
        return "the call was not transcribed (its language is outside this deployment's languages)"
    if result.call_scores is None:
        return "the call was analysed without scores (--no-scores)"
    if not result.utterances:
        return "no speech was found in the recording (scored: no words to plot)"
    return "no speaker had a timeline"


def plot_timeline(result: CallAnalysis, out: Path, bands: EscalationBands | None = None) -> Path:
    """Per speaker: each utterance's text sentiment (dots coloured by its emotion label) and the
    smoothed valence (sentiment nudged by the voice) over the escalation bands, then voice
    arousal (bars: above or below the speaker's own baseline);
    ``bands``: the escalation bands to shade (default: those the call's level was read with)."""
    bands = bands or EscalationBands.of(result.call_scores.bands if result.call_scores else None)
    if not result.timeline:
        raise ValueError(f"{result.file}: nothing to plot: {_why_no_timeline(result)}")
    n = len(result.timeline)
    fig, axes = plt.subplots(2 * n, 1, figsize=(12, 2.6 * 2 * n), sharex=True, squeeze=False)
    duration = result.duration_s
    acoustic = {s.speaker: s.acoustic_emotion for s in result.speaker_scores}
    for k, tl in enumerate(result.timeline):
        ax_v, ax_a = axes[2 * k, 0], axes[2 * k + 1, 0]
        for lo, hi, name in ((bands.green, 1, "green"), (bands.yellow, bands.green, "yellow"),
                             (bands.orange, bands.yellow, "orange"), (-1, bands.orange, "red")):
            ax_v.axhspan(lo, hi, color=BAND_COLOURS[name], zorder=0)
        t = [x for x, v in zip(tl.grid_t, tl.valence) if v is not None]
        v = [v for v in tl.valence if v is not None]
        ax_v.plot(t, v, color="black", lw=1.5)
        for p in tl.points:  # each utterance at its text sentiment, as the JSON gives it
            said = result.utterances[p.utterance].sentiment if p.utterance < len(result.utterances) else None
            ax_v.scatter(p.t, said.score if said else p.valence, color=LABEL_COLOURS.get(p.label, "grey"), s=28,
                         zorder=3, edgecolors="white", linewidths=0.5)
        ax_v.set_ylim(-1, 1)
        ax_v.set_ylabel("sentiment /\nvalence")
        ax_v.set_title(f"{tl.speaker} ({tl.role})", loc="left", fontsize=10)
        ta = [x for x, a in zip(tl.grid_t, tl.arousal) if a is not None]
        aa = [a for a in tl.arousal if a is not None]
        if aa:
            ax_a.bar(ta, aa, width=tl.grid_s * 0.9, color=[AROUSED if a > 0 else CALM for a in aa])
        else:
            why = ("policy: no emotion from an employee's voice unless opted in, AI Act Art. 5(1)(f)"
                   if not acoustic.get(tl.speaker) else "too little voiced speech")
            ax_a.text(0.5, 0.5, f"no acoustic emotion for this speaker ({why})", ha="center", va="center",
                      transform=ax_a.transAxes, color="grey")
        ax_a.set_ylim(-1, 1)
        ax_a.set_ylabel("voice arousal")
        ax_a.axhline(0, color="grey", lw=0.5)
    axes[-1, 0].set_xlim(0, duration)
    axes[-1, 0].set_xlabel("time in call (s)")
    handles: list[Artist] = [plt.Line2D([], [], marker="o", ls="", color=c, label=lab) for lab, c in LABEL_COLOURS.items()]
    handles += [plt.Line2D([], [], color="black", lw=1.5, label="valence: sentiment nudged by the voice, smoothed"),
                Patch(color=AROUSED, label="voice more aroused than the speaker's own usual"),
                Patch(color=CALM, label="calmer than usual")]
    height = fig.get_figheight()  # inches: the title and the legend keep 1.15 in above the plots
    level = result.call_scores.escalation.value if result.call_scores else None
    fig.suptitle(f"{result.file}: escalation {level}", x=0.01, y=1 - 0.1 / height, ha="left", va="top", fontsize=12)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.45 / height), ncol=5, fontsize=8,
               frameon=False, alignment="left",
               title="dots: each utterance's text sentiment, coloured by its emotion label", title_fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 1 - 1.15 / height))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

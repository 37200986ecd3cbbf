"""Who spoke when.

* Dual-channel calls: one speaker per channel, turns = that channel's speech regions (exact;
  overlapping speech is kept).
* Mono (and mixed stereo): silero-vad speech → GE2E d-vectors from the bundled resemblyzer
  encoder on sliding 1.6 s windows (0.4 s hop) → spectral clustering whose speaker count is
  chosen from the data (eigengap of an auto-pruned affinity, NME-SC, Park et al. 2019),
  bounded by ``min_speakers..max_speakers`` → speaker turns.

Cost on long calls: embeddings are computed in batches of ``EMBED_BATCH`` windows (memory
bounded whatever the length), and clustering sees at most ``MAX_CLUSTER_WINDOWS`` windows spread
evenly over the call; every other window joins the speaker whose centroid it is closest to
(cosine). Calls with up to ``MAX_CLUSTER_WINDOWS`` windows (about 400 s of speech) are clustered
whole, as before. Time and memory grow linearly with the call (benchmarks/long_calls.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callscope.audio.vad import SpeechRegion
from callscope.errors import MissingWeightsError
from callscope.transcription.speaker_runtime import HOP, N_FFT, SpeakerRuntime, mel_frames, partial_slices
from callscope.transcription.speech_gate import gather_speech
from callscope.transcription.types import SpeakerTurn

WINDOW_HOP_S = 0.4
FRAME_S = 0.1  # resolution of the turn boundaries (seconds)
#: Most windows the spectral clustering sees (its affinity is n×n and its eigensolver O(n³)).
MAX_CLUSTER_WINDOWS = 1000
#: Windows embedded per forward pass of the speaker encoder.
EMBED_BATCH = 256


def speaker_id(index: int) -> str:
    """Stable speaker names: S0, S1, … in order of first speech."""
    return f"S{index}"


@dataclass(frozen=True)
class DiarisationSettings:
    """Bounds on the number of speakers (calls are usually 2), and the one-speaker test.

    Attributes:
        min_speakers, max_speakers: bounds on the speaker count (1..max).
        single_speaker_similarity: when ``min_speakers`` is 1, a recording is one speaker if the
            10th percentile of cosine similarity between non-overlapping windows is at or above
            this (0..1). Measured on 17 real telephone and close-talk recordings
            (benchmarks/diarisation.py): one speaker ≥ 0.676, two or more ≤ 0.635; the default
            is the midpoint. Far-field meeting audio does not separate (AMI tst01, four
            speakers: 0.724 → taken for one); set ``min_speakers`` ≥ 2 when you know better.
    """

    min_speakers: int = 1
    max_speakers: int = 4
    single_speaker_similarity: float = 0.655

    def __post_init__(self) -> None:
        if not 1 <= self.min_speakers <= self.max_speakers:
            raise ValueError(
                f"need 1 <= min_speakers <= max_speakers, got {self.min_speakers}..{self.max_speakers}"
            )


def channel_turns(regions_per_channel: list[list[SpeechRegion]]) -> list[SpeakerTurn]:
    """Dual-channel diarisation: speaker S<channel> for every speech region of that channel."""
    turns = [
        SpeakerTurn(speaker_id(ch), r.start, r.end)
        for ch, regions in enumerate(regions_per_channel)
        for r in regions
    ]
    return sorted(turns, key=lambda t: (t.start, t.end))


def _eigengap_count(affinity: np.ndarray, max_k: int) -> tuple[int, float]:
    """Speaker count by the largest eigengap of the graph Laplacian, and that gap normalised."""
    degree = affinity.sum(axis=1)
    laplacian = np.diag(degree) - affinity
    eig = np.sort(np.linalg.eigvalsh(laplacian))
    top = min(max_k + 1, len(eig))
    gaps = np.diff(eig[:top])
    k = int(np.argmax(gaps)) + 1
    return k, float(gaps[k - 1] / (eig[-1] + 1e-10))


def _pruned_affinity(cos: np.ndarray, p: int) -> np.ndarray:
    """Keep each row's ``p`` most similar neighbours (binary), symmetrised."""
    n = cos.shape[0]
    a = np.zeros_like(cos)
    idx = np.argsort(-cos, axis=1)[:, :p]
    a[np.repeat(np.arange(n), p), idx.ravel()] = 1.0
    return (a + a.T) / 2.0


def window_similarity_p10(embeddings: np.ndarray, centres: np.ndarray, window_s: float = 1.6) -> float:
    """10th percentile of cosine similarity over pairs of windows that do not overlap in time."""
    x = embeddings / (np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-10)
    iu = np.triu_indices(len(x), 1)
    sims = (x @ x.T)[iu]
    apart = np.abs(centres[:, None] - centres[None, :])[iu] >= window_s
    pool = sims[apart] if apart.any() else sims
    return float(np.percentile(pool, 10)) if len(pool) else 1.0


def _spectral_labels(cos: np.ndarray, p: int, k: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    n = cos.shape[0]
    affinity = _pruned_affinity(cos, p)
    d = 1.0 / np.sqrt(affinity.sum(axis=1) + 1e-10)
    norm_lap = np.eye(n) - d[:, None] * affinity * d[None, :]
    _, vecs = np.linalg.eigh(norm_lap)
    spectral = vecs[:, :k]
    spectral /= np.linalg.norm(spectral, axis=1, keepdims=True) + 1e-10
    return KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(spectral)


def cluster_embeddings(
    embeddings: np.ndarray, centres: np.ndarray, settings: DiarisationSettings,
    max_windows: int = MAX_CLUSTER_WINDOWS,
) -> np.ndarray:
    """Cluster window embeddings (n, d) with window centres (n,) in seconds into speakers.

    One speaker if ``min_speakers`` is 1 and the windows are all alike (see
    :class:`DiarisationSettings`); otherwise spectral clustering on an affinity pruned as in
    NME-SC, with the count in ``max(2, min_speakers)..max_speakers`` that gives the best
    cosine silhouette. Over ``max_windows`` windows, an evenly spread subset of that many is
    clustered and every window takes the label of the nearest subset centroid (cosine).
    Returns labels (n,) numbered 0..k-1.
    """
    n = embeddings.shape[0]
    if n <= max_windows:
        return _cluster_all(embeddings, centres, settings)
    subset = np.unique(np.linspace(0, n - 1, max_windows).round().astype(int))
    sub_labels = _cluster_all(embeddings[subset], centres[subset], settings)
    x = embeddings / (np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-10)
    ks = np.unique(sub_labels)
    cents = np.stack([x[subset][sub_labels == k].mean(axis=0) for k in ks])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-10
    labels = np.empty(n, dtype=int)
    for a in range(0, n, 10_000):  # bounded blocks of the (n, k) similarity
        labels[a : a + 10_000] = ks[np.argmax(x[a : a + 10_000] @ cents.T, axis=1)]
    return labels


def _cluster_all(embeddings: np.ndarray, centres: np.ndarray, settings: DiarisationSettings) -> np.ndarray:
    """:func:`cluster_embeddings` on every window given (n×n affinity)."""
    from sklearn.metrics import silhouette_score

    n = embeddings.shape[0]
    if n < 3 or settings.max_speakers == 1:
        return np.zeros(n, dtype=int)
    if settings.min_speakers == 1 and window_similarity_p10(embeddings, centres) >= settings.single_speaker_similarity:
        return np.zeros(n, dtype=int)
    x = embeddings / (np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-10)
    cos = x @ x.T
    max_k = min(settings.max_speakers, n - 1)
    candidates = sorted({max(2, int(round(n * f))) for f in (0.05, 0.08, 0.12, 0.16, 0.2, 0.25, 0.3)})
    candidates = [p for p in candidates if p < n] or [n - 1]
    best_p = min(candidates, key=lambda p: p / (_eigengap_count(_pruned_affinity(cos, p), max_k)[1] + 1e-10))
    best: tuple[float, np.ndarray] | None = None
    for k in range(max(2, settings.min_speakers), max_k + 1):
        labels = _spectral_labels(cos, best_p, k)
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(x, labels, metric="cosine"))
        if best is None or score > best[0]:
            best = (score, labels)
    return best[1] if best else np.zeros(n, dtype=int)


class SpeakerEncoder:
    """The resemblyzer GE2E encoder (weights in the ``resemblyzer`` wheel), on the CPU, run by
    onnxruntime (:mod:`callscope.transcription.speaker_runtime`: no torch or librosa per call)."""

    def __init__(self, threads: int = 0) -> None:
        try:
            self.runtime = SpeakerRuntime(threads)
        except (ImportError, FileNotFoundError) as exc:
            raise MissingWeightsError(
                "The speaker encoder is missing: install the PyPI package 'resemblyzer' (pip install resemblyzer==0.1.4)."
                f" ({exc})"
            ) from exc

    def window_embeddings(self, speech: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """d-vectors (n, 256) of 1.6 s windows every 0.4 s of ``speech``, and each window's centre (s).

        The same windows and values as resemblyzer's ``embed_utterance`` over the whole signal,
        computed ``EMBED_BATCH`` windows at a time: the mel spectrogram of each batch's span only
        (frames centred as librosa centres them), so memory does not grow with the call.
        """
        rms = float(np.sqrt(np.mean(speech**2))) + 1e-9
        wav = (speech * (10 ** (-30 / 20) / rms)).astype(np.float32)  # -30 dBFS as resemblyzer expects
        wav_slices, mel_slices = partial_slices(len(wav), 1.0 / WINDOW_HOP_S, 0.5)
        parts = []
        for b in range(0, len(mel_slices), EMBED_BATCH):
            batch = mel_slices[b : b + EMBED_BATCH]
            first = batch[0].start
            mel = self._mel_frames(wav, first, batch[-1].stop)
            mels = np.stack([mel[sl.start - first : sl.stop - first] for sl in batch])
            parts.append(self.runtime.embed(mels))
        centres = np.array(
            [(s.start + min(s.stop, len(wav))) / 2.0 / sample_rate for s in wav_slices], dtype=np.float64
        )
        return np.concatenate(parts), centres

    def _mel_frames(self, wav: np.ndarray, first: int, stop: int) -> np.ndarray:
        """Mel frames ``first..stop-1`` (stop - first, 40) of ``wav`` exactly as resemblyzer's
        ``wav_to_mel_spectrogram`` gives them for the whole signal (librosa's centred frames:
        zero-padded beyond its ends)."""
        a, b = first * HOP - N_FFT // 2, (stop - 1) * HOP + N_FFT // 2 + (N_FFT % 2)
        seg = np.zeros(b - a, dtype=np.float32)
        lo, hi = max(a, 0), min(b, len(wav))
        if hi > lo:
            seg[lo - a : hi - a] = wav[lo:hi]
        return mel_frames(seg, self.runtime.mel_basis)


def diarise_mono(
    audio: np.ndarray,
    regions: list[SpeechRegion],
    sample_rate: int,
    encoder: SpeakerEncoder,
    settings: DiarisationSettings,
) -> list[SpeakerTurn]:
    """Speaker turns of mono ``audio`` (float32 at ``sample_rate`` Hz) within its speech ``regions``."""
    speech, speech_map = gather_speech(audio, regions, sample_rate)
    if len(speech) < int(0.5 * sample_rate):
        return [SpeakerTurn(speaker_id(0), r.start, r.end) for r in regions]
    embeddings, centres = encoder.window_embeddings(speech, sample_rate)
    labels = cluster_embeddings(embeddings, centres, settings)
    centres_orig = np.array([speech_map.to_original(c) for c in centres])
    # Frame every region at 0.1 s and give each frame the label of the nearest window centre.
    frames: list[tuple[float, float, int]] = []
    for r in speech_map.regions:
        n = max(1, int(np.ceil(r.duration / FRAME_S)))
        edges = np.linspace(r.start, r.end, n + 1)
        mids = (edges[:-1] + edges[1:]) / 2
        nearest = _nearest(centres_orig, mids)
        for s, e, lab in zip(edges[:-1], edges[1:], labels[nearest]):
            frames.append((float(s), float(e), int(lab)))
    # Number speakers by first speech, merge runs of frames into turns.
    order: dict[int, str] = {}
    turns: list[SpeakerTurn] = []
    for s, e, lab in frames:
        name = order.setdefault(lab, speaker_id(len(order)))
        if turns and turns[-1].speaker == name and abs(turns[-1].end - s) < 1e-6:
            turns[-1] = SpeakerTurn(name, turns[-1].start, e)
        else:
            turns.append(SpeakerTurn(name, s, e))
    return [SpeakerTurn(t.speaker, round(t.start, 3), round(t.end, 3)) for t in turns]


def _nearest(sorted_centres: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Index of the centre nearest to each point (the earlier one on a tie); centres ascending."""
    right = np.clip(np.searchsorted(sorted_centres, points, side="left"), 0, len(sorted_centres) - 1)
    left = np.clip(right - 1, 0, len(sorted_centres) - 1)
    take_left = np.abs(points - sorted_centres[left]) <= np.abs(sorted_centres[right] - points)
    return np.where(take_left, left, right)


def to_annotation(turns: list[SpeakerTurn], uri: str = "call"):
    """Turns as a ``pyannote.core.Annotation`` (for RTTM output and DER)."""
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, t in enumerate(turns):
        ann[Segment(t.start, t.end), i] = t.speaker
    return ann

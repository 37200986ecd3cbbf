"""Topics across calls: customers' problem statements clustered, named and followed in time.

* :func:`discover` clusters unit sentence vectors with scikit-learn's HDBSCAN (after PCA to
  :data:`PCA_DIMS` dimensions, as BERTopic reduces before clustering; leaf selection,
  ``min_cluster_size`` :data:`MIN_CLUSTER_SIZE`, ``min_samples`` 2: chosen on 3,000 queries of
  banking77's *training* split, scored on its test split). Memory is bounded by sampling: at most
  :data:`MAX_SAMPLE` statements of a window are clustered (a seeded random sample); the rest, and
  the points HDBSCAN leaves as noise, are assigned to the nearest topic centre (:func:`assign`)
  when within :data:`ASSIGN_MIN_SIMILARITY`, else stay without a topic (-1).
* :func:`top_terms` names each topic by its top terms under class-based TF-IDF (c-TF-IDF,
  BERTopic's weighting: a topic's texts as one document, term frequency normalised per topic,
  times log(1 + mean words per topic / the term's frequency over all topics)).
* :func:`surges` compares each topic's share of a day (or any period) with its share over the
  baseline periods before it (ratio, count, a binomial test corrected for the number of topics,
  and the baseline's own day-to-day spread).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PCA_DIMS = 32
MIN_CLUSTER_SIZE = 10
MIN_CLUSTER_SHARE = 0.002
MIN_SAMPLES = 2
MAX_SAMPLE = 20_000
ASSIGN_MIN_SIMILARITY = 0.85
SURGE_RATIO = 1.5
SURGE_K = 3.0
SURGE_ALPHA = 0.01
SURGE_MIN_COUNT = 5
SEED = 7


@dataclass(frozen=True)
class Topics:
    """``labels`` per input row (-1: no topic), ``centres`` (topics, dims) as unit vectors in
    the input space, and which rows were clustered (the rest were assigned)."""

    labels: np.ndarray
    centres: np.ndarray
    sampled: np.ndarray


def discover(vectors: np.ndarray, min_cluster_size: int | None = None, max_sample: int = MAX_SAMPLE,
             seed: int = SEED) -> Topics:
    """Topics of ``vectors`` (unit rows): clustered on a sample of at most ``max_sample`` rows.
    ``min_cluster_size`` defaults to :data:`MIN_CLUSTER_SIZE` or :data:`MIN_CLUSTER_SHARE` of the
    sample, whichever is larger (a week of 20,000 statements: topics of 40 or more)."""
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    n = len(vectors)
    if min_cluster_size is None:
        min_cluster_size = max(MIN_CLUSTER_SIZE, round(min(n, max_sample) * MIN_CLUSTER_SHARE))
    labels = np.full(n, -1, dtype=np.int64)
    if n < max(2 * min_cluster_size, PCA_DIMS + 1):
        return Topics(labels, np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32), np.arange(n))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=max_sample, replace=False)) if n > max_sample else np.arange(n)
    reduced = PCA(n_components=PCA_DIMS, random_state=seed).fit_transform(vectors[sample])
    found = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=MIN_SAMPLES,
                    cluster_selection_method="leaf", copy=True).fit_predict(reduced)
    labels[sample] = found
    k = int(found.max()) + 1
    centres = np.stack([vectors[sample][found == t].mean(axis=0) for t in range(k)]) if k else np.zeros((0, vectors.shape[1]))
    centres = (centres / np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-9)).astype(np.float32)
    rest = np.setdiff1d(np.arange(n), sample[found >= 0])
    if len(rest) and k:
        labels[rest] = assign(vectors[rest], centres)
    return Topics(labels, centres, sample)


def assign(vectors: np.ndarray, centres: np.ndarray, min_similarity: float = ASSIGN_MIN_SIMILARITY) -> np.ndarray:
    """Each row's nearest topic centre, or -1 when none is within ``min_similarity`` (cosine)."""
    if len(centres) == 0:
        return np.full(len(vectors), -1, dtype=np.int64)
    sims = vectors @ centres.T
    best = sims.argmax(axis=1)
    return np.where(sims[np.arange(len(vectors)), best] >= min_similarity, best, -1)


def top_terms(texts: list[str], labels: np.ndarray, n_terms: int = 5) -> dict[int, list[str]]:
    """Each topic's ``n_terms`` top terms (c-TF-IDF), unigrams and bigrams, by topic label."""
    from sklearn.feature_extraction.text import CountVectorizer

    topics = sorted(int(t) for t in set(labels.tolist()) if t >= 0)
    if not topics:
        return {}
    docs = [" ".join(texts[i] for i in np.flatnonzero(labels == t)) for t in topics]
    vectorizer = CountVectorizer(ngram_range=(1, 2), min_df=1, token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b")
    counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    tf = counts / counts.sum(axis=1, keepdims=True).clip(1)
    mean_words = counts.sum() / len(topics)
    idf = np.log(1 + mean_words / counts.sum(axis=0).clip(1))
    weights = tf * idf
    vocab = np.array(vectorizer.get_feature_names_out())
    return {t: vocab[np.argsort(-weights[k])[:n_terms]].tolist() for k, t in enumerate(topics)}


#: Two problem statements at least this similar (cosine) count as the same for representatives.
SAME_STATEMENT = 0.98


def representatives(vectors: np.ndarray, labels: np.ndarray, centres: np.ndarray, k: int = 3) -> dict[int, list[int]]:
    """Each topic's ``k`` rows nearest its centre (indices into ``vectors``), no two saying the
    same thing (cosine similarity above :data:`SAME_STATEMENT`: customers often use the very same
    words, and three copies of one sentence show less than three sentences)."""
    out = {}
    for t in range(len(centres)):
        rows = np.flatnonzero(labels == t)
        chosen: list[int] = []
        for i in rows[np.argsort(-(vectors[rows] @ centres[t]))]:
            if all(float(vectors[i] @ vectors[j]) < SAME_STATEMENT for j in chosen):
                chosen.append(int(i))
                if len(chosen) == k:
                    break
        if chosen:
            out[t] = chosen
    return out


@dataclass(frozen=True)
class Surge:
    """A topic whose share of period ``period`` is ``share`` against a baseline mean ``baseline``
    (shares 0..1), with ``count`` statements in the period."""

    period: int
    topic: int
    share: float
    baseline: float
    count: int


def surges(counts: np.ndarray, totals: np.ndarray, baseline_periods: int = 7) -> list[Surge]:
    """Surges in ``counts`` (periods, topics) of statements per topic, ``totals`` (periods)
    statements per period; each period from ``baseline_periods`` on is compared with the
    ``baseline_periods`` before it. A surge needs all of: a share at least :data:`SURGE_RATIO`
    times the baseline's; a count at least :data:`SURGE_MIN_COUNT`; a count that the baseline
    rate makes improbable (binomial tail below :data:`SURGE_ALPHA` divided by the number of
    topics: one false surge in a hundred periods at most, whatever the number of topics); and a
    share above the baseline's mean by :data:`SURGE_K` of its day-to-day standard deviations (a
    topic that swings anyway does not surge on a swing)."""
    from scipy.stats import binom

    shares = counts / totals[:, None].clip(1)
    n_topics = max(counts.shape[1], 1)
    found = []
    for p in range(baseline_periods, len(counts)):
        window = slice(p - baseline_periods, p)
        base = shares[window]
        mean, sd = base.mean(axis=0), base.std(axis=0)
        rate = (counts[window].sum(axis=0) + 0.5) / (totals[window].sum() + 1.0)
        tail = binom.sf(counts[p] - 1, max(int(totals[p]), 1), rate)
        for t in np.flatnonzero((shares[p] >= SURGE_RATIO * mean) & (counts[p] >= SURGE_MIN_COUNT)
                                & (tail < SURGE_ALPHA / n_topics) & (shares[p] > mean + SURGE_K * sd)):
            found.append(Surge(p, int(t), round(float(shares[p, t]), 4), round(float(mean[t]), 4), int(counts[p, t])))
    return found

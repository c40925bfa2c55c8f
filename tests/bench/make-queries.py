#!/usr/bin/env python3
"""Make the benchmark's query file from article titles, deterministically.

Usage: make-queries.py CORPUS.jsonl[.gz] [COUNT] > queries.txt

Every k-th article (k = docs // COUNT, starting with the first) gives one query: its title
lowercased, every character that is not a letter or digit turned into a space, and the first
four words kept. A title with no word left gives way to the next article. Nothing is picked
by hand, so the set mixes rare names ("anarchism") with common words ("list of"), the way
titles do. The output is committed (tests/bench/queries-wiki.txt) so every run of
`make bench` uses the same 500 queries; rerun this only to change the recipe.
"""
import gzip
import json
import sys


def open_corpus(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def title_words(title):
    cleaned = "".join(c if c.isalnum() else " " for c in title.lower())
    return cleaned.split()[:4]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make-queries.py CORPUS.jsonl[.gz] [COUNT] > queries.txt")
    count = int(sys.argv[2]) if len(sys.argv) == 3 else 500
    with open_corpus(sys.argv[1]) as f:
        titles = [json.loads(line)["title"] for line in f if line.strip()]
    step = max(1, len(titles) // count)
    queries = []
    i = 0
    while len(queries) < count and i < len(titles):
        words = title_words(titles[i])
        if words:
            queries.append(" ".join(words))
            i += step
        else:
            i += 1
    sys.stdout.write("".join(q + "\n" for q in queries))


if __name__ == "__main__":
    main()

#!/bin/sh
# build.sh — train the word vectors of Rose's local embedder and write the
# model file lib/engines/embed_local.c maps.
#
#   lib/engines/embed-model/build.sh [OUT]     (default build/embed/rose-embed.bin)
#
# Needs Debian's fasttext, wordnet-base and dict-gcide, a C compiler, perl
# and gzip.  Steps, each timed:
#   1. corpus.pl: WordNet and GCIDE text, one normalised line per sense,
#      and the word links (synonyms, hypernyms, inflections);
#   2. fasttext skipgram: 100-dimensional word vectors (about 2.5 minutes
#      on 2 cores, most of the time);
#   3. export.c: the 100,000 most frequent words, retrofitted to the links,
#      centred, weighted and quantised, written to OUT.
# Does nothing when OUT is newer than its inputs (the dictionaries, these
# scripts).  Work files go to OUT's directory: about 300 MB while training,
# then only corpus.txt (42 MB) and links.txt (5 MB) are kept, for reading.
# EMBED_THREADS (default 2) sets fastText's threads: with 1 the vectors are
# the same on every run (and training takes twice as long); with more they
# vary slightly from run to run, and the AUC on tests/embed/pairs.tsv with
# them (docs/internals/embeddings.md).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/embed/rose-embed.bin}
dir=$(dirname "$out")
threads=${EMBED_THREADS:-2}
words=100000
wordnet=/usr/share/wordnet
gcide=/usr/share/dictd/gcide.dict.dz
cc=${CC:-cc}

for f in "$wordnet/data.noun" "$gcide"; do
    [ -r "$f" ] || { echo "build.sh: $f missing: apt-get install wordnet-base dict-gcide" >&2; exit 1; }
done
command -v fasttext >/dev/null || { echo "build.sh: fasttext missing: apt-get install fasttext" >&2; exit 1; }

if [ -f "$out" ]; then
    stale=
    for f in "$wordnet"/data.* "$wordnet"/index.* "$wordnet"/*.exc "$gcide" \
             "$here/build.sh" "$here/corpus.pl" "$here/export.c"; do
        [ "$f" -nt "$out" ] && stale=$f
    done
    if [ -z "$stale" ]; then
        echo "build.sh: $out is up to date"
        exit 0
    fi
fi

mkdir -p "$dir"
now() { date +%s; }
t0=$(now)
"$cc" -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -o "$dir/export" "$here/export.c" -lm
perl "$here/corpus.pl" "$wordnet" "$gcide" "$dir/links.txt" > "$dir/corpus.txt.tmp"
mv "$dir/corpus.txt.tmp" "$dir/corpus.txt"
t1=$(now)
echo "build.sh: corpus: $(wc -l < "$dir/corpus.txt") lines, $(wc -w < "$dir/corpus.txt") words," \
     "$(wc -l < "$dir/links.txt") links: $((t1 - t0)) s"

# -maxn 0: no character n-grams.  The model file keeps whole words only, so
# n-grams could only refine the vectors of rare words, and they make
# training several times slower (over 10 minutes on 2 cores).  -epoch 3:
# 5 took 4 minutes instead of 2.3 for the same AUC on tests/embed/.
echo "build.sh: fasttext skipgram, $threads threads (a few minutes)..."
nice fasttext skipgram -input "$dir/corpus.txt" -output "$dir/vectors" -dim 100 \
    -epoch 3 -minCount 3 -maxn 0 -thread "$threads" -verbose 1
t2=$(now)
echo "build.sh: fasttext skipgram: $((t2 - t1)) s"

fasttext dump "$dir/vectors.bin" dict > "$dir/counts.txt"
"$dir/export" "$dir/vectors.vec" "$dir/counts.txt" "$dir/links.txt" "$words" "$out"
rm -f "$dir/vectors.bin" "$dir/vectors.vec" "$dir/counts.txt" "$dir/export"
t3=$(now)
echo "build.sh: export: $((t3 - t2)) s; total $((t3 - t0)) s; $out: $(wc -c < "$out") bytes"

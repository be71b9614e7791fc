#!/usr/bin/env bash
# Fetch the Debian package augustus-doc (AUGUSTUS tutorial data: a 210 kb
# region of human GRCh38 chr16 with its RefSeq genes, and Drosophila
# melanogaster chromosome arm 2R) and unpack it into a cache directory.
#
# Usage: scripts/fetch-augustus-doc.sh
# Cache: ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/augustus-doc
# Prints the path of the unpacked usr/share/doc/augustus directory on stdout
# (everything else goes to stderr). Idempotent: an already unpacked cache is
# reused without touching the network.
#
# Layout inside the package (version 3.5.0+dfsg-2):
#   tutorial-cgp/data/genomes/hg38.fa        GRCh38 chr16:186,964-397,118
#   tutorial-cgp/data/refseq/refseq.hg38.gtf RefSeq genes, region coordinates
#   tutorial/data/chr2R.fa                   D. melanogaster 2R (21.1 Mb)
# Symlinks tutorial-cgp/genomes, tutorial-cgp/refseq and tutorial/chr2R.fa
# are added so that the flatter layout tutorial-cgp/genomes/hg38.fa,
# tutorial-cgp/refseq/refseq.hg38.gtf, tutorial/chr2R.fa also resolves.
# Other package versions may ship some files gzipped (*.fa.gz): consumers
# should accept both.
set -euo pipefail

CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
DEST="$CACHE/augustus-doc"
DOC="$DEST/usr/share/doc/augustus"
STAMP="$DEST/.unpacked"

have_file() { [ -e "$1" ] || [ -e "$1.gz" ]; }

add_links() {
  # Flatter aliases for the data/ subdirectories (only where absent).
  if [ -d "$DOC/tutorial-cgp/data/genomes" ] && [ ! -e "$DOC/tutorial-cgp/genomes" ]; then
    ln -s data/genomes "$DOC/tutorial-cgp/genomes"
  fi
  if [ -d "$DOC/tutorial-cgp/data/refseq" ] && [ ! -e "$DOC/tutorial-cgp/refseq" ]; then
    ln -s data/refseq "$DOC/tutorial-cgp/refseq"
  fi
  for f in chr2R.fa chr2R.fa.gz; do
    if [ -e "$DOC/tutorial/data/$f" ] && [ ! -e "$DOC/tutorial/$f" ]; then
      ln -s "data/$f" "$DOC/tutorial/$f"
    fi
  done
}

complete() {
  [ -f "$STAMP" ] &&
    have_file "$DOC/tutorial-cgp/genomes/hg38.fa" &&
    [ -e "$DOC/tutorial-cgp/refseq/refseq.hg38.gtf" ] &&
    have_file "$DOC/tutorial/chr2R.fa"
}

if complete; then
  echo "$DOC"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fetch-augustus-doc.sh: '$tool' not found (a Debian/Ubuntu system is needed)" >&2
    exit 1
  }
done

mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/.augustus-doc.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# apt-get download writes into the current directory; the _apt user needs
# to be able to write there, or apt falls back to an unsandboxed download.
chmod 755 "$WORK"

(
  cd "$WORK"
  if ! apt-get download augustus-doc >&2; then
    echo "fetch-augustus-doc.sh: 'apt-get download' failed, running 'apt-get update' and retrying" >&2
    apt-get update >&2
    apt-get download augustus-doc >&2
  fi
)

DEB="$(ls "$WORK"/augustus-doc_*.deb 2>/dev/null | head -n 1)"
if [ -z "$DEB" ]; then
  echo "fetch-augustus-doc.sh: no augustus-doc_*.deb was downloaded" >&2
  exit 1
fi
echo "fetch-augustus-doc.sh: unpacking $(basename "$DEB")" >&2

mkdir -p "$WORK/root"
dpkg-deb -x "$DEB" "$WORK/root"
basename "$DEB" > "$WORK/root/.deb-name"
# Replace any previous (partial) cache atomically enough for a single user.
rm -rf "$DEST"
mv "$WORK/root" "$DEST"

add_links
: > "$STAMP"
if ! complete; then
  echo "fetch-augustus-doc.sh: unpacked package lacks the expected tutorial files under $DOC" >&2
  exit 1
fi
echo "$DOC"

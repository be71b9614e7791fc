"""One-hot encoding of DNA text.

Channels are A, C, G, T; case is ignored.  ``N`` is all zeros.  Other
letters (IUPAC codes) are encoded two ways:

- ``spliceai`` (the default of ``annotate``): exactly as SpliceAI 1.3.1's
  encoder treats them, which takes the letter's code point modulo 5 (so ``R``
  reads as C, ``Y`` as T, ``K`` as nothing), keeping scores identical;
- ``zeros``: every letter other than A, C, G, T is all zeros.
"""

from __future__ import annotations

import numpy as np

ENCODINGS = ("spliceai", "zeros")


def iupac_encoding(iupac: str | None) -> str:
    """The encoding the commands' ``--iupac spliceai|n`` option selects (``None``: SpliceAI's)."""
    return "zeros" if iupac == "n" else "spliceai"

_ROWS = np.array(
    [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32
)


def _table(unknown: str) -> np.ndarray:
    codes = np.zeros(256, dtype=np.int64)  # index into _ROWS; 0 = all zeros
    for byte in range(256):
        letter = chr(byte).upper()
        if letter in "ACGT":
            codes[byte] = "ACGT".index(letter) + 1
        elif letter == "N" or unknown == "zeros":
            codes[byte] = 0
        elif byte < 128:
            codes[byte] = ord(letter) % 5
    return _ROWS[codes]


_TABLES = {name: _table(name) for name in ENCODINGS}


def one_hot(sequence: str | bytes, encoding: str = "spliceai") -> np.ndarray:
    """One-hot encode ``sequence``.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(len(sequence), 4)``.
    """
    data = sequence.encode("latin-1") if isinstance(sequence, str) else sequence
    return _TABLES[encoding][np.frombuffer(data, dtype=np.uint8)]


def code_rows(dtype=np.float32) -> np.ndarray:
    """The one-hot row of each base code (:data:`BASE_CODES`): ``(5, 4)``, row 0 (N) all zeros."""
    return _ROWS.astype(dtype)


def reverse_complement(encoded: np.ndarray) -> np.ndarray:
    """Reverse complement of a ``(length, 4)`` one-hot array (A,C,G,T order)."""
    return encoded[::-1, ::-1]


# Base codes for bulk work on raw bytes (training data, genome-wide prediction):
# byte -> 0 (N or any other letter), 1..4 (A, C, G, T), either case; the
# complement of code c is COMPLEMENT_CODES[c].
BASE_CODES = np.zeros(256, dtype=np.uint8)
for _code, _letter in enumerate(b"ACGT", start=1):
    BASE_CODES[_letter] = BASE_CODES[_letter + 32] = _code
COMPLEMENT_CODES = np.array([0, 4, 3, 2, 1], dtype=np.uint8)


def complement_text(bases: str | bytes) -> str | bytes:
    """``bases`` (upper-case A, C, G, T, N) complemented, not reversed."""
    return bases.translate(_COMPLEMENT_BYTES if isinstance(bases, bytes) else _COMPLEMENT_STR)


_COMPLEMENT_STR = str.maketrans("ACGTN", "TGCAN")
_COMPLEMENT_BYTES = bytes.maketrans(b"ACGTN", b"TGCAN")

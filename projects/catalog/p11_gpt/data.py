"""Names as documents: reading a file of one name a line, the character vocabulary, the held-out split,
token sequences, and the bigram count model the GPT has to beat.

A document (a name) becomes the tokens ``[BOS] + characters + [BOS]``: one special token ``BOS`` marks both
the start and the end, as in microgpt. The model predicts each token from the ones before it, so a name of
n characters gives n + 1 predictions (its characters, then the end). A document longer than the context
(``block_size`` predictions) is cut after ``block_size`` of them, on both models alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from autograd.errors import UsageError
from projects.datasets import EMBEDDED

EMBEDDED_NAMES = EMBEDDED / "names" / "first_names_census1990.txt"
"""5,163 first names from the 1990 US Census lists (public domain; see ``projects/data/README.md``)."""

UNKNOWN_CHOICES = ("error", "skip")


@dataclass(frozen=True)
class Vocabulary:
    """The characters a document may contain (sorted), plus the one special token ``bos`` (id len(chars))."""

    chars: tuple[str, ...]

    @property
    def bos(self) -> int:
        return len(self.chars)

    @property
    def size(self) -> int:
        return len(self.chars) + 1

    def encode(self, document: str) -> list[int]:
        """``[BOS] + character ids + [BOS]``."""
        index = {c: i for i, c in enumerate(self.chars)}
        return [self.bos, *(index[c] for c in document), self.bos]

    def decode(self, ids: Sequence[int]) -> str:
        """The characters of ``ids`` (BOS tokens left out)."""
        return "".join(self.chars[i] for i in ids if i != self.bos)


@dataclass(frozen=True)
class Documents:
    """What a names file held: the documents, where they came from, and what was left out (and why)."""

    documents: list[str]
    source: str
    blank_lines: int
    skipped_lines: int  # lines with a character outside the alphabet, left out by --unknown skip


def read_documents(path: str | Path | None, alphabet: str | None = None, unknown: str = "error") -> Documents:
    """The documents of a UTF-8 text file, one a line (surrounding white space stripped, blank lines left
    out); the embedded census names when ``path`` is None.

    A character outside ``alphabet`` (default: any printable character) is bad input: ``unknown="error"``
    stops with the line's number and the character, ``"skip"`` leaves the line out.
    """
    if unknown not in UNKNOWN_CHOICES:
        raise UsageError(f"--unknown {unknown!r}: choose {' or '.join(UNKNOWN_CHOICES)}")
    if alphabet is not None and not alphabet:
        raise UsageError("--alphabet is empty: give the characters a name may contain, e.g. abc...z")
    file = EMBEDDED_NAMES if path is None else Path(path)
    if not file.is_file():
        raise UsageError(f"--data {file}: no such file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"--data {file}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise UsageError(f"--data {file}: cannot read it ({e.strerror})") from None
    if not text:
        raise UsageError(f"--data {file}: the file is empty (expected one name a line)")
    allowed = set(alphabet) if alphabet is not None else None
    documents: list[str] = []
    blank = skipped = 0
    for number, line in enumerate(text.splitlines(), start=1):
        document = line.strip()
        if not document:
            blank += 1
            continue
        bad = next((c for c in document if not _allowed(c, allowed)), None)
        if bad is not None:
            if unknown == "skip":
                skipped += 1
                continue
            where = "outside --alphabet" if allowed is not None else "not printable"
            raise UsageError(
                f"--data {file}: line {number} has the character {bad!r} ({where}); "
                "use --unknown skip to leave such lines out"
            )
        documents.append(document)
    if not documents:
        why = f"{skipped} with characters outside the alphabet, {blank} blank" if skipped else "all blank"
        raise UsageError(f"--data {file}: no usable lines ({why}; expected one name a line)")
    if len(documents) < 2:
        raise UsageError(
            f"--data {file}: one usable line; needs at least 2 (one to train on, one to hold out)"
        )
    source = "embedded: 1990 US Census first names" if path is None else str(file)
    return Documents(documents, source, blank, skipped)


def _allowed(c: str, alphabet: set[str] | None) -> bool:
    return c.isprintable() if alphabet is None else c in alphabet


def vocabulary(documents: Sequence[str]) -> Vocabulary:
    """Every character that occurs in the documents, sorted (microgpt's ``uchars``)."""
    return Vocabulary(tuple(sorted(set("".join(documents)))))


def split(documents: Sequence[str], held_out: float, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """A random ``held_out`` share of the documents (at least one) for validation, the rest for training."""
    n = len(documents)
    n_val = min(n - 1, max(1, round(held_out * n)))
    order = rng.permutation(n)
    val = sorted(order[:n_val].tolist())
    train = sorted(order[n_val:].tolist())
    return [documents[i] for i in train], [documents[i] for i in val]


def token_sequences(documents: Sequence[str], vocab: Vocabulary, block_size: int) -> list[list[int]]:
    """Each document's tokens, cut to ``block_size`` predictions (block_size + 1 tokens)."""
    return [vocab.encode(d)[: block_size + 1] for d in documents]


def pad_batch(sequences: Sequence[Sequence[int]], pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (B, T), targets (B, T) and a mask (B, T) of 1 for a real prediction, 0 for padding, where T
    is the longest sequence's number of predictions: the inputs are ``tokens[:-1]``, the targets
    ``tokens[1:]``, padded at the end with ``pad`` (masked out of the loss; under causal attention no real
    position ever sees a padded one, since the padding comes after it)."""
    lengths = [len(s) - 1 for s in sequences]
    width = max(lengths)
    inputs = np.full((len(sequences), width), pad, dtype=np.intp)
    targets = np.full((len(sequences), width), pad, dtype=np.intp)
    mask = np.zeros((len(sequences), width))
    for row, (tokens, n) in enumerate(zip(sequences, lengths)):
        inputs[row, :n] = tokens[:-1]
        targets[row, :n] = tokens[1:]
        mask[row, :n] = 1.0
    return inputs, targets, mask


# ---- the bigram baseline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bigram:
    """P(next = b | previous = a) = (N(a, b) + 1) / (N(a) + V): counts with add-one (Laplace) smoothing."""

    log_probs: np.ndarray  # (V, V): row a, column b

    @classmethod
    def fit(cls, sequences: Sequence[Sequence[int]], vocab_size: int) -> Bigram:
        counts = np.ones((vocab_size, vocab_size))  # the add-one
        for tokens in sequences:
            ids = np.asarray(tokens)
            np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
        return cls(np.log(counts / counts.sum(axis=1, keepdims=True)))

    def nll(self, sequences: Sequence[Sequence[int]]) -> float:
        """Mean negative log-likelihood per predicted token (nats) over the sequences."""
        total = 0.0
        for tokens in sequences:
            ids = np.asarray(tokens)
            total -= self.log_probs[ids[:-1], ids[1:]].sum()
        return float(total / sum(len(s) - 1 for s in sequences))

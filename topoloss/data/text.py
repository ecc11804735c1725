"""Character-level text data for the small GPT (the paper's §7 finding).

The shipped ``corpus.txt`` (about 4.5 KB of plain English prose written for this
project and placed in the public domain) makes the text experiments run offline.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from topoloss.data.core import DatasetInfo
from topoloss.errors import InputError

__all__ = ["TextDataset", "Vocabulary", "corpus_text", "text_corpus"]


@dataclass(frozen=True)
class Vocabulary:
    """The characters of a corpus and their integer ids.

    Parameters
    ----------
    itos : tuple of str
        Distinct single characters; the id of ``itos[i]`` is ``i``.

    Examples
    --------
    >>> vocab = Vocabulary.from_text("abca")
    >>> vocab.encode("cab").tolist(), vocab.decode([2, 0, 1])
    ([2, 0, 1], 'cab')
    """

    itos: tuple[str, ...]
    stoi: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        chars = tuple(self.itos)
        if not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise InputError(
                f"itos must be a non-empty sequence of single characters, got {chars!r}"
            )
        if len(set(chars)) != len(chars):
            raise InputError("itos holds a character twice")
        object.__setattr__(self, "itos", chars)
        object.__setattr__(self, "stoi", {c: i for i, c in enumerate(chars)})

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """Build the sorted vocabulary of the characters in ``text``."""
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        """Number of characters."""
        return len(self.itos)

    def encode(self, text: str) -> Tensor:
        """Return the int64 ids of ``text``; an unknown character raises ``ValueError``."""
        try:
            return torch.tensor([self.stoi[c] for c in text], dtype=torch.int64)
        except KeyError as err:
            raise InputError(f"character {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        """Return the text of a sequence of ids."""
        values = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        return "".join(self.itos[int(i)] for i in values)


class TextDataset(Dataset[tuple[Tensor, Tensor]]):
    """Next-character windows of a token sequence.

    Item ``i`` is ``(x, y)`` with ``x = ids[i : i + block_size]`` and
    ``y = ids[i + 1 : i + block_size + 1]`` (int64): the target at every position is
    the next character.

    Parameters
    ----------
    ids : Tensor
        1-D int64 token ids, longer than ``block_size``.
    block_size : int
        Window length.
    vocab : Vocabulary
        The vocabulary of the ids.

    Attributes
    ----------
    info : DatasetInfo
        ``input_shape=(block_size,)`` and ``num_classes=vocab.size``.
    """

    def __init__(self, ids: Tensor, block_size: int, vocab: Vocabulary) -> None:
        if ids.dim() != 1 or len(ids) <= block_size:
            raise InputError(
                f"need a 1-D sequence longer than {block_size=}, got shape {tuple(ids.shape)}"
            )
        self.ids = ids.to(torch.int64)
        self.block_size = block_size
        self.vocab = vocab
        self.info = DatasetInfo((block_size,), vocab.size)

    def __len__(self) -> int:
        return len(self.ids) - self.block_size

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} windows")
        index %= n
        chunk = self.ids[index : index + self.block_size + 1]
        return chunk[:-1], chunk[1:]

    def __repr__(self) -> str:
        return (
            f"TextDataset(windows={len(self)}, block_size={self.block_size}, "
            f"vocab={self.vocab.size})"
        )


def corpus_text() -> str:
    """Return the text of the corpus shipped with topoloss (about 4.5 KB of prose).

    Returns
    -------
    str
        The corpus.
    """
    package = __name__.rpartition(".")[0]  # this module's package, topoloss.data
    return resources.files(package).joinpath("corpus.txt").read_text(encoding="utf-8")


def text_corpus(
    *,
    block_size: int = 32,
    test_size: float = 0.1,
    path: str | os.PathLike[str] | None = None,
) -> tuple[TextDataset, TextDataset]:
    """Character-level next-token datasets from the shipped corpus or a local text file.

    The text is cut once: the first ``1 - test_size`` of the characters give the
    training windows, the rest the test windows. The vocabulary is that of the
    whole text, so both splits share it (``train.vocab``).

    Parameters
    ----------
    block_size : int, default=32
        Window (context) length.
    test_size : float, default=0.1
        Fraction of the text held out, in ``(0, 1)``.
    path : path-like, optional
        A UTF-8 text file to use instead of the shipped corpus.

    Returns
    -------
    train, test : TextDataset
        Windows ``(x, y)`` of ``block_size`` int64 ids.

    Raises
    ------
    ValueError
        If a split would be no longer than ``block_size``.
    FileNotFoundError
        If ``path`` does not exist.

    Examples
    --------
    >>> train, test = text_corpus(block_size=16)
    >>> x, y = train[0]
    >>> train.vocab.decode(x[1:]) == train.vocab.decode(y[:-1])
    True
    """
    if isinstance(block_size, bool) or int(block_size) != block_size or block_size < 1:
        raise InputError(f"block_size must be a positive integer, got {block_size=}")
    if not 0.0 < float(test_size) < 1.0:
        raise InputError(f"test_size must lie strictly between 0 and 1, got {test_size=}")
    if path is None:
        text = corpus_text()
    else:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"text file {str(file)!r} does not exist")
        text = file.read_text(encoding="utf-8")
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    cut = round(len(ids) * (1.0 - float(test_size)))
    block_size = int(block_size)
    for name, part in (("train", ids[:cut]), ("test", ids[cut:])):
        if len(part) <= block_size:
            raise InputError(
                f"the {name} split has {len(part)} characters, not more than {block_size=}; "
                "use a longer text, a smaller block_size or another test_size"
            )
    return TextDataset(ids[:cut], block_size, vocab), TextDataset(ids[cut:], block_size, vocab)

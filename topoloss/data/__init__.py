"""Datasets for model landscapes: offline defaults and loaders for local files.

* offline, no files needed: :func:`digits` (scikit-learn's 8x8 digits), the synthetic
  :func:`moons`, :func:`circles`, :func:`blobs`, and :func:`text_corpus` (a shipped
  English corpus, for the character-level GPT);
* from a local folder, never downloaded: :func:`mnist`, :func:`fashion_mnist`,
  :func:`cifar10`, :func:`cifar100`, :func:`svhn`;
* :func:`load_dataset` picks any of them from a string such as ``"digits"``,
  ``"blobs:centers=3"`` or ``"cifar10:/data"``; :func:`register_dataset` adds your
  own loaders to the registry :data:`DATASETS` that the CLI and the docs list;
  :func:`as_dataset` wraps ``(X, y)`` arrays;
  :func:`dataset_info` gives the :class:`DatasetInfo` (input shape, number of
  classes) that sizes a model (``topoloss.models.get_model``).

Every loader returns ``(train, test)``.
"""

from topoloss.data.builtin import blobs, circles, digits, moons
from topoloss.data.core import (
    ClassificationDataset,
    DatasetInfo,
    as_dataset,
    dataset_info,
)
from topoloss.data.local import (
    cifar10,
    cifar100,
    fashion_mnist,
    mnist,
    read_cifar_bin,
    read_idx,
    svhn,
)
from topoloss.data.spec import (
    DATASETS,
    DatasetArgument,
    DatasetEntry,
    DatasetLoader,
    available_datasets,
    load_dataset,
    register_dataset,
)
from topoloss.data.text import TextDataset, Vocabulary, corpus_text, text_corpus

__all__ = [
    "DATASETS",
    "ClassificationDataset",
    "DatasetArgument",
    "DatasetEntry",
    "DatasetInfo",
    "DatasetLoader",
    "TextDataset",
    "Vocabulary",
    "as_dataset",
    "available_datasets",
    "blobs",
    "cifar10",
    "cifar100",
    "circles",
    "corpus_text",
    "dataset_info",
    "digits",
    "fashion_mnist",
    "load_dataset",
    "mnist",
    "moons",
    "read_cifar_bin",
    "read_idx",
    "register_dataset",
    "svhn",
    "text_corpus",
]

"""Image datasets read from files already on disk; topoloss never downloads.

Supported layouts (``ROOT`` is the folder you pass; the usual sub-folders are searched
too):

=============  =========================================================================
MNIST          ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
               ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each may end in
               ``.gz``) in ``ROOT``, ``ROOT/MNIST/raw`` or ``ROOT/mnist``
Fashion-MNIST  the same IDX names in ``ROOT``, ``ROOT/FashionMNIST/raw`` or
               ``ROOT/fashion-mnist``
CIFAR-10       binary version ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and
               ``test_batch.bin``; or the python version ``cifar-10-batches-py/``
CIFAR-100      binary version ``cifar-100-binary/train.bin`` and ``test.bin``; or the
               python version ``cifar-100-python/train`` and ``test``
SVHN           ``train_32x32.mat`` and ``test_32x32.mat`` (format 2) in ``ROOT`` or
               ``ROOT/svhn``
=============  =========================================================================

The CIFAR binary files are plain bytes and are preferred. The python version is a
pickle; it is read with a restricted unpickler that only rebuilds NumPy arrays
(see :mod:`topoloss.data._pickle`).

Every loader returns ``(train, test)`` :class:`ClassificationDataset` s with float32
images ``(N, C, H, W)`` scaled to ``[0, 1]`` and, with ``normalize``, standardized per
channel with the training statistics. ``n_train`` / ``n_test`` keep only the first
samples of each split (handy for small-scale landscapes).

The loaders live with their file formats: :mod:`topoloss.data.idx_files` (MNIST,
Fashion-MNIST), :mod:`topoloss.data.cifar_files` (CIFAR-10, CIFAR-100) and
:mod:`topoloss.data.svhn_files` (SVHN), on the helpers of
:mod:`topoloss.data._local_files`; they are all importable from here.
"""

from topoloss.data.cifar_files import cifar10, cifar100, read_cifar_bin
from topoloss.data.idx_files import fashion_mnist, mnist, read_idx
from topoloss.data.svhn_files import svhn

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist", "read_cifar_bin", "read_idx", "svhn"]

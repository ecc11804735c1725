"""Datasets: offline sets, the shipped corpus, local-file loaders on tiny fake files."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from topoloss.data import (
    ClassificationDataset,
    DatasetInfo,
    TextDataset,
    Vocabulary,
    as_dataset,
    available_datasets,
    blobs,
    cifar10,
    cifar100,
    circles,
    corpus_text,
    dataset_info,
    digits,
    fashion_mnist,
    load_dataset,
    mnist,
    moons,
    read_cifar_bin,
    read_idx,
    svhn,
    text_corpus,
)
from topoloss.models import get_model

# ---------------------------------------------------------------- offline datasets


def test_digits_flat_and_images() -> None:
    train, test = digits()
    assert (len(train), len(test)) == (1437, 360)
    x, y = train[0]
    assert x.shape == (64,) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert train.info == DatasetInfo((64,), 10) and test.info.num_classes == 10
    assert abs(float(train.inputs.mean())) < 1e-5 and abs(float(train.inputs.std()) - 1) < 1e-3
    assert torch.bincount(test.targets).min() >= 35  # stratified

    tr_img, _ = digits(as_images=True, normalize=False, seed=0)
    assert tr_img.info.input_shape == (1, 8, 8)
    assert float(tr_img.inputs.min()) == 0.0 and float(tr_img.inputs.max()) == 1.0
    # same split as the flat version
    assert torch.equal(tr_img.targets, train.targets)
    assert not torch.equal(digits(seed=1)[0].targets, train.targets)
    assert len(digits(test_size=0.5)[1]) == 899


@pytest.mark.parametrize(
    ("make", "shape", "classes"),
    [
        (lambda: moons(100, noise=0.2, seed=3), (2,), 2),
        (lambda: circles(100), (2,), 2),
        (lambda: blobs(120, centers=3, n_features=5), (5,), 3),
    ],
)
def test_synthetic(make, shape, classes) -> None:
    train, test = make()
    assert len(train) + len(test) in (100, 120)
    assert train.info == DatasetInfo(shape, classes)
    again = make()[0]
    assert torch.equal(train.inputs, again.inputs)  # seeded


@pytest.mark.parametrize(
    "call",
    [
        lambda: digits(test_size=1.0),
        lambda: moons(2),
        lambda: blobs(centers=1),
        lambda: circles(factor=1.5),
    ],
)
def test_synthetic_validation(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_text_corpus() -> None:
    text = corpus_text()
    assert 3000 < len(text) < 20000 and "river" in text
    train, test = text_corpus(block_size=16)
    assert isinstance(train, TextDataset) and train.vocab is test.vocab
    assert train.info == DatasetInfo((16,), train.vocab.size)
    assert len(train) + len(test) + 32 == len(text)
    x, y = train[5]
    assert x.dtype == torch.int64 and x.shape == y.shape == (16,)
    assert torch.equal(x[1:], y[:-1])
    assert train.vocab.decode(x) == text[5:21]
    assert test.vocab.decode(test[-1][1])[-1] == text[-1]
    with pytest.raises(IndexError):
        train[len(train)]


def test_text_corpus_from_file_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("abcabcabcabcabcabcabcabcabcabc", encoding="utf-8")
    train, test = text_corpus(block_size=4, test_size=0.3, path=f)
    assert train.vocab.itos == ("a", "b", "c") and len(test) == 9 - 4
    with pytest.raises(ValueError, match="block_size"):
        text_corpus(block_size=10, test_size=0.3, path=f)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        text_corpus(path=tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="'z'"):
        train.vocab.encode("abz")


def test_vocabulary() -> None:
    vocab = Vocabulary.from_text("hello world")
    assert vocab.decode(vocab.encode("hello")) == "hello"
    assert vocab.stoi["h"] == vocab.itos.index("h") and vocab.size == 8
    assert vocab == Vocabulary(tuple(sorted(set("hello world"))))
    with pytest.raises(ValueError):
        Vocabulary(("a", "a"))


def test_gpt_fits_text_info() -> None:
    train, _ = text_corpus(block_size=8)
    info = dataset_info(train)
    net = get_model(
        "gpt:n_layer=1,n_embd=8", input_shape=info.input_shape, num_classes=info.num_classes
    )
    x, _ = train[0]
    assert net(x[None]).shape == (1, 8, train.vocab.size)


# ------------------------------------------------------------ as_dataset / info


def test_as_dataset() -> None:
    ds = as_dataset((np.zeros((4, 3)), np.array([0, 2, 1, 0])))
    assert isinstance(ds, ClassificationDataset) and ds.info == DatasetInfo((3,), 3)
    assert ds[0][0].dtype == torch.float32
    targets = torch.randn(5, generator=torch.Generator().manual_seed(0))
    reg = as_dataset((torch.zeros(5, 2, dtype=torch.float64), targets))
    assert type(reg) is TensorDataset and reg[0][0].dtype == torch.float32
    base = TensorDataset(torch.zeros(2, 1), torch.zeros(2))
    assert as_dataset(base) is base
    with pytest.raises(ValueError, match=r"len\(X\)=4 and len\(y\)=3"):
        as_dataset((np.zeros((4, 3)), np.zeros(3)))
    with pytest.raises(ValueError, match="pair"):
        as_dataset((np.zeros(3),))
    with pytest.raises(ValueError, match="pair"):
        as_dataset(np.zeros(3))


def test_dataset_info() -> None:
    train, _ = digits(as_images=True)
    assert dataset_info(train) == DatasetInfo((1, 8, 8), 10)
    assert dataset_info(Subset(train, [0, 1])) == train.info
    plain = TensorDataset(torch.zeros(3, 2, 2), torch.tensor([0, 4, 1]))
    assert dataset_info(plain) == DatasetInfo((2, 2), 5)

    class Pairs(Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int):
            return torch.zeros(7), i

    assert dataset_info(Pairs()) == DatasetInfo((7,), 3)
    with pytest.raises(ValueError, match="non-integer"):
        dataset_info(TensorDataset(torch.zeros(3, 2), torch.zeros(3)))
    with pytest.raises(ValueError, match="num_classes"):
        DatasetInfo((2,), 0)
    with pytest.raises(ValueError, match="labels"):
        ClassificationDataset(torch.zeros(2, 1), torch.tensor([0, 3]), num_classes=2)


# --------------------------------------------------------------- local files


def write_idx(path: Path, array: np.ndarray, code: int = 0x08) -> None:
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    payload = struct.pack(">BBBB", 0, 0, code, array.ndim)
    payload += struct.pack(f">{array.ndim}I", *array.shape) + array.astype(dtype).tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)


def fake_mnist(folder: Path, *, gz: bool, n_train: int = 5, n_test: int = 3) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.array([9, 0, 3][:n_test], dtype=np.uint8),
    }
    for name, arr in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), arr)
    return arrays


def test_read_idx_types(tmp_path: Path) -> None:
    ints = np.array([[1, -2], [300000, 4]], dtype=np.int32)
    write_idx(tmp_path / "i.idx", ints, 0x0C)
    assert np.array_equal(read_idx(tmp_path / "i.idx"), ints)
    floats = np.linspace(0, 1, 6, dtype=np.float32).reshape(3, 2)
    write_idx(tmp_path / "f.idx.gz", floats, 0x0D)
    assert np.array_equal(read_idx(tmp_path / "f.idx.gz"), floats)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    raw = (tmp_path / "i.idx").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_idx(tmp_path: Path, gz: bool) -> None:
    arrays = fake_mnist(tmp_path / "MNIST" / "raw", gz=gz)
    train, test = mnist(tmp_path, normalize=False)
    assert (len(train), len(test)) == (5, 3)
    assert train.info == DatasetInfo((1, 28, 28), 10)
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte"]).float() / 255
    torch.testing.assert_close(train.inputs[:, 0], expected)
    assert test.targets.tolist() == [9, 0, 3]
    normed, _ = mnist(tmp_path, n_train=4, n_test=2)
    assert len(normed) == 4 and abs(float(normed.inputs.mean())) < 1e-5


def test_fashion_mnist_and_load_dataset(tmp_path: Path) -> None:
    fake_mnist(tmp_path, gz=True)
    train, test = fashion_mnist(tmp_path)
    assert len(train) == 5 and test.info.num_classes == 10
    train2, _ = load_dataset(f"fashion-mnist:{tmp_path}", normalize=True)
    assert torch.equal(train.inputs, train2.inputs)


def test_mnist_missing_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        mnist(tmp_path)
    msg = str(err.value)
    assert str(tmp_path) in msg and str(tmp_path / "MNIST/raw") in msg
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", ".gz", "never downloads"):
        assert name in msg


def cifar_records(n: int, labels: list[list[int]], seed: int) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    rows = [bytes(lab) + images[i].tobytes() for i, lab in enumerate(labels)]
    return b"".join(rows), images


def test_cifar10_binary(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    all_images = []
    for i in range(1, 6):
        raw, images = cifar_records(3, [[i], [0], [9]], seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(raw)
        all_images.append(images)
    raw, test_images = cifar_records(3, [[7], [8], [1]], seed=9)
    (folder / "test_batch.bin").write_bytes(raw)

    train, test = cifar10(tmp_path, normalize=False)
    assert (len(train), len(test)) == (15, 3) and train.info == DatasetInfo((3, 32, 32), 10)
    assert train.targets[:6].tolist() == [1, 0, 9, 2, 0, 9]
    torch.testing.assert_close(
        train.inputs, torch.from_numpy(np.concatenate(all_images)).float() / 255
    )
    assert test.targets.tolist() == [7, 8, 1]
    imgs, labels = read_cifar_bin(folder / "test_batch.bin")
    assert np.array_equal(imgs, test_images) and labels.shape == (3, 1)

    normed, _ = load_dataset(f"cifar10:{folder}")  # the batches folder itself works too
    per_channel = normed.inputs.mean(dim=(0, 2, 3))
    assert per_channel.abs().max() < 1e-5

    (folder / "test_batch.bin").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match="whole number"):
        cifar10(tmp_path)


def test_cifar100_binary(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    raw, _ = cifar_records(3, [[1, 42], [19, 99], [0, 0]], seed=0)
    (folder / "train.bin").write_bytes(raw)
    raw, _ = cifar_records(2, [[5, 7], [6, 8]], seed=1)
    (folder / "test.bin").write_bytes(raw)
    train, _ = cifar100(tmp_path)
    assert train.targets.tolist() == [42, 99, 0] and train.info.num_classes == 100
    coarse, _ = cifar100(tmp_path, labels="coarse")
    assert coarse.targets.tolist() == [1, 19, 0] and coarse.info.num_classes == 20
    with pytest.raises(ValueError, match="labels"):
        cifar100(tmp_path, labels="medium")


def test_cifar_python_version_with_restricted_unpickler(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
        batches[name] = data
        with open(folder / name, "wb") as fh:  # protocol 2, as the real files
            pickle.dump({b"data": data, b"labels": [3, 4], b"batch_label": b"x"}, fh, protocol=2)
    train, test = cifar10(tmp_path, normalize=False)
    assert len(train) == 10 and test.targets.tolist() == [3, 4]
    torch.testing.assert_close(
        test.inputs.reshape(2, -1), torch.from_numpy(batches["test_batch"]).float() / 255
    )

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": Evil(), b"labels": [0]}, fh)
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        cifar10(tmp_path)

    c100 = tmp_path / "cifar-100-python"
    c100.mkdir()
    for name, n in (("train", 3), ("test", 2)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        with open(c100 / name, "wb") as fh:
            pickle.dump(
                {b"data": data, b"fine_labels": [5] * n, b"coarse_labels": [1] * n}, fh, protocol=5
            )
    train, _ = cifar100(tmp_path, labels="coarse")
    assert train.targets.tolist() == [1, 1, 1]


def test_cifar_missing_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        cifar10(tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "cifar-10-batches-bin") in msg
    assert "data_batch_1.bin" in msg and "test_batch.bin" in msg and "cifar.html" in msg
    with pytest.raises(FileNotFoundError, match="cifar-100-binary/ with train.bin, test.bin"):
        cifar100(tmp_path)


def test_svhn(tmp_path: Path) -> None:
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 3, 4), dtype=np.uint8)
    savemat(tmp_path / "train_32x32.mat", {"X": x, "y": np.array([[1], [10], [3], [10]])})
    savemat(tmp_path / "test_32x32.mat", {"X": x[..., :2], "y": np.array([[2], [5]])})
    train, test = svhn(tmp_path, normalize=False)
    assert train.targets.tolist() == [1, 0, 3, 0] and len(test) == 2
    assert train.info == DatasetInfo((3, 32, 32), 10)
    torch.testing.assert_close(
        train.inputs[1], torch.from_numpy(x[..., 1].transpose(2, 0, 1).copy()).float() / 255
    )
    with pytest.raises(FileNotFoundError, match=r"train_32x32\.mat, test_32x32\.mat"):
        svhn(tmp_path / "elsewhere")


# ------------------------------------------------------------------ load_dataset


def test_load_dataset_builtin_specs() -> None:
    assert load_dataset("digits")[0].info.input_shape == (64,)
    assert load_dataset("Digits-Images")[0].info.input_shape == (1, 8, 8)
    assert load_dataset("moons", n_samples=50)[0].info.num_classes == 2
    assert load_dataset("blobs", n_samples=50, centers=3)[0].info.num_classes == 3
    assert load_dataset("circles", n_samples=50)[0].info.num_classes == 2
    train, _ = load_dataset("text", block_size=8)
    assert train.info.input_shape == (8,)
    assert "mnist:ROOT" in available_datasets() and "text[:FILE]" in available_datasets()


def test_load_dataset_text_file(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("xy" * 30)
    train, _ = load_dataset(f"text:{f}", block_size=3)
    assert train.vocab.itos == ("x", "y")


def test_load_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'imagenet'.*digits.*cifar10:ROOT"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="needs a folder"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="takes no ':'"):
        load_dataset("digits:/tmp")
    with pytest.raises(FileNotFoundError, match="svhn"):
        load_dataset(f"svhn:{tmp_path}")


def test_model_sized_from_dataset_info() -> None:
    train, _ = load_dataset("digits-images")
    info = dataset_info(train)
    net = get_model("CNN-2-4", input_shape=info.input_shape, num_classes=info.num_classes)
    x, _ = train[0]
    assert net(x[None]).shape == (1, 10)

import numpy as np
import pytest

from core.pictures.data import DataUnavailableError, load_mnist


def test_bundled_mnist_has_the_published_shapes_and_counts(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28) and mnist.x_test.dtype == np.uint8
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(mnist.y_train).tolist()[:3] == [5923, 6742, 5958]


def test_missing_file_and_failed_download_says_what_to_do(tmp_path, monkeypatch):
    import keras

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataUnavailableError, match="assets/"):
        load_mnist(tmp_path / "missing.npz")

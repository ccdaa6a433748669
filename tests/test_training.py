import numpy as np
import pytest

from core.pictures.data import Mnist
from core.training.config import PRESETS, TrainConfig, stratified_subset
from core.training.loop import train

TINY = TrainConfig(architecture="mlp", dense_units=32, epochs=2, train_size=5_000, batch_size=64, seed=1)


@pytest.fixture(scope="module")
def small(mnist):
    return Mnist(mnist.x_train[:6000], mnist.y_train[:6000], mnist.x_test[:2000], mnist.y_test[:2000])


def test_a_tiny_config_trains_in_seconds_and_beats_chance_by_far(small):
    reports = []
    result = train(TINY, small, on_progress=reports.append, report_every=5)
    assert result.test_accuracy > 0.8  # chance is 0.1
    assert not result.stopped and result.seconds < 60
    assert len(result.history["validation"]) == 2  # one point per epoch
    assert len(result.history["train"]) >= 5
    assert reports[-1].step == reports[-1].steps and reports[-1].epoch == 2
    assert reports[-1].seconds_left == 0 and reports[0].seconds_left > 0


def test_same_config_and_seed_give_the_same_curves(small):
    first, again = train(TINY, small), train(TINY, small)
    assert first.history == again.history


def test_stop_ends_training_early_and_keeps_a_usable_model(small):
    steps = []
    config = TrainConfig(architecture="cnn", filters=8, epochs=5, train_size=5_000, batch_size=32, seed=2)
    result = train(config, small, should_stop=lambda: len(steps) >= 120, on_progress=steps.append, report_every=1)
    assert result.stopped
    assert len(steps) <= 121  # stopped at the step of the request, not at the end of 5 epochs of 141 steps
    assert result.model.predict(small.x_test[:4] / np.float32(255), verbose=0).shape == (4, 10)
    assert result.test_accuracy > 0.3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"architecture": "vit"}, "architecture must be one of"),
        ({"learning_rate": 5.0}, "learning rate must be one of 0.0001, 0.0003"),
        ({"train_size": 10}, "train size must be one of 500, 1000, 5000"),
        ({"dropout": 0.95}, "dropout must be from 0 to 0.8 in steps of 0.05; got 0.95"),
        ({"epochs": 2.0}, "epochs must be from 1 to 20; got 2.0"),
        ({"seed": -1}, "seed must be a whole number from 0 to 2147483647"),
    ],
)
def test_invalid_configs_say_what_to_fix(change, message):
    config = TrainConfig(**change)
    with pytest.raises(ValueError, match=message):
        config.validate()


def test_a_batch_larger_than_the_digits_a_run_learns_from_is_refused_and_a_link_gets_the_largest_that_fits():
    from core.training.links import config_from_params

    with pytest.raises(ValueError, match="A batch of 512 is more than the 350 digits"):
        TrainConfig(train_size=500, validation_share=0.3, batch_size=512).validate()
    TrainConfig(train_size=500, validation_share=0.3, batch_size=256).validate()
    config, notices = config_from_params({"train_size": "500", "validation_share": "0.3", "batch_size": "512"})
    assert config.batch_size == 256 and any("larger than the 350 digits" in str(notice) for notice in notices)
    config.validate()


def test_presets_are_valid_and_quick_is_there():
    assert {"quick", "accurate", "tiny_mlp"} <= PRESETS.keys()
    for config in PRESETS.values():
        config.validate()


def test_stratified_subset_keeps_class_proportions(mnist):
    indices = stratified_subset(mnist.y_train, 6_000, seed=0)
    assert len(set(indices)) == len(indices) == 6_000
    share = np.bincount(mnist.y_train[indices], minlength=10) / 6_000
    np.testing.assert_allclose(share, np.bincount(mnist.y_train) / 60_000, atol=0.002)


COUNTED = [  # configurations whose parameters the budget counts, checked against Keras: every architecture
    {"architecture": "resnet"},
    {"architecture": "resnet", "conv_blocks": 3, "blocks": 2, "filters": 32, "batch_norm": False},
    {"architecture": "rnn"},
    {"architecture": "rnn", "cell": "gru", "blocks": 1, "dense_units": 64},
    {"architecture": "transformer"},
    {"architecture": "transformer", "patch_size": 7, "blocks": 4, "dense_units": 128, "heads": 8},
    {"architecture": "transformer", "stem": 16},
    {"architecture": "transformer", "patch_size": 2, "stem": 8, "blocks": 1, "dense_units": 32},
    {"architecture": "private_cnn", "batch_norm": False},
    {"architecture": "mlp"},
    {"architecture": "cnn"},
    {"architecture": "deep_cnn", "conv_blocks": 3, "filters": 16},
    {"architecture": "cnn", "batch_norm": False, "conv_blocks": 1},
]


@pytest.mark.parametrize("options", COUNTED)
def test_the_budget_counts_every_architectures_parameters_as_keras_builds_them(options):
    from core.training.budget import network
    from core.training.loop import build

    config = TrainConfig(**options)
    config.validate()
    assert network(config).parameters == build(config).count_params()


def test_every_architecture_in_the_table_is_counted_against_keras():
    from core.training.architectures import ARCHITECTURES

    assert set(ARCHITECTURES) == {options["architecture"] for options in COUNTED}


@pytest.mark.parametrize("architecture", ["resnet", "rnn", "transformer"])
def test_each_new_architecture_survives_a_round_trip_through_a_file_and_reads_as_a_softmax(architecture, mnist):
    from core.models import model_bytes, model_from_bytes, predict_proba
    from core.training.loop import build

    model = build(TrainConfig(architecture=architecture, dense_units=64, blocks=1))
    again = model_from_bytes(model_bytes(model))  # the Transformer's position embedding is a layer of ours
    images = mnist.x_test[:50] / np.float32(255)
    probabilities = predict_proba(model, images)
    np.testing.assert_allclose(predict_proba(again, images), probabilities, atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_a_private_run_refuses_the_rnn_and_the_transformer_with_a_reason():
    for architecture in ("rnn", "transformer"):
        with pytest.raises(ValueError, match="Private runs take the CNNs and the MLP"):
            TrainConfig(architecture=architecture, batch_norm=False, dp_epsilon=3.0).validate()


def test_a_network_with_custom_layers_loads_where_only_core_models_was_imported(tmp_path):
    """A run's child builds it and hands it back as bytes; the server that loads them may never have built one."""
    import subprocess
    import sys

    from conftest import ROOT
    from core.models import model_bytes
    from core.training.loop import build

    path = tmp_path / "transformer.keras"
    path.write_bytes(model_bytes(build(TrainConfig(architecture="transformer", dense_units=32, blocks=1, heads=2))))
    code = f"from core.models import model_from_bytes; model_from_bytes(open({str(path)!r}, 'rb').read())"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-1500:]

"""Quantization, pruning and distillation on tiny models, checked against independent computations."""

import dataclasses

import keras
import numpy as np
import pytest

from core.distill import Distillation, Distiller
from core.models import build_cnn, build_mlp, model_bytes, model_from_bytes, predict_proba
from core.prune import apply_masks, magnitude_masks, prune, sparsity
from core.quantize import LiteModel, measure, quantize_all, representative_digits, to_tflite
from core.training.config import STUDENTS, TrainConfig
from core.training.loop import build, train

TINY = TrainConfig(architecture="mlp", dense_units=64, dropout=0.0, batch_norm=False, epochs=2, train_size=10_000)


@pytest.fixture(scope="module")
def tiny(mnist):
    """An MLP trained for two epochs on 10,000 digits: ~90% right, with weights worth pruning."""
    return train(TINY, mnist).model


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist.x_test[:1000] / np.float32(255), mnist.y_test[:1000]


def test_a_float32_file_reads_like_the_keras_model(tiny, digits):
    lite = LiteModel(to_tflite(tiny), parameters=tiny.count_params())
    images, _ = digits
    np.testing.assert_allclose(lite.predict_proba(images), predict_proba(tiny, images), atol=1e-5)
    assert predict_proba(lite, images[:3]).shape == (3, 10)  # the app's one reading path takes it too
    assert lite.predict_proba(images[:0]).shape == (0, 10)


def test_each_quantization_shrinks_the_file_and_keeps_the_answers(tiny, mnist, digits):
    images, labels = digits
    expected = predict_proba(tiny, images).argmax(axis=1)
    sizes = {}
    for quantization in ("float32", "float16", "dynamic", "int8"):
        representative = representative_digits(mnist, 100) if quantization == "int8" else None
        flatbuffer = to_tflite(tiny, quantization=quantization, representative=representative)
        sizes[quantization] = len(flatbuffer)
        probabilities = LiteModel(flatbuffer, parameters=0).predict_proba(images)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        assert (probabilities.argmax(axis=1) == expected).mean() > 0.97, quantization
    assert sizes["float16"] < 0.55 * sizes["float32"]
    assert sizes["dynamic"] < 0.3 * sizes["float32"] and sizes["int8"] < 0.3 * sizes["float32"]


def test_full_integer_files_compute_in_int8_with_float_ends(tiny, mnist):
    flatbuffer = to_tflite(tiny, quantization="int8", representative=representative_digits(mnist, 100))
    lite = LiteModel(flatbuffer, parameters=0)
    interpreter = lite._interpreter
    ends = {interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]}
    inner = [t for t in interpreter.get_tensor_details() if t["index"] not in ends and t["dtype"] != np.int32]
    assert inner and all(t["dtype"] == np.int8 for t in inner), {t["name"]: t["dtype"] for t in inner}
    assert interpreter.get_input_details()[0]["dtype"] == np.float32


def test_conversion_refuses_unknown_settings(tiny):
    with pytest.raises(ValueError, match="quantization must be one of"):
        to_tflite(tiny, quantization="int4")
    with pytest.raises(ValueError, match="representative digits"):
        to_tflite(tiny, quantization="int8")


def test_measure_counts_the_interpreters_own_answers(tiny, mnist):
    variant = measure(to_tflite(tiny), quantization="float32", source="tiny", model=tiny, data=mnist)
    expected = (predict_proba(tiny, mnist.x_test / np.float32(255)).argmax(axis=1) == mnist.y_test).mean()
    assert variant.accuracy == pytest.approx(expected, abs=2e-4)  # 2 digits of 10,000 may round differently
    assert variant.size_bytes == len(variant.flatbuffer) and 0 < variant.zipped_bytes < variant.size_bytes
    assert variant.latency_ms > 0 and variant.parameters == tiny.count_params() and variant.sparsity == 0


def test_masks_remove_exactly_the_smallest_weights_of_each_large_layer():
    model = build_cnn(conv_blocks=2, convs_per_block=1, filters=8, dense_units=64)
    kernels = {layer.name: layer.kernel.numpy() for layer in model.layers if hasattr(layer, "kernel")}
    masks = magnitude_masks(model, 0.8)
    pruned = {kernel.path for kernel, _ in masks}
    total = sum(k.size for k in kernels.values())
    for name, kernel in kernels.items():
        small = kernel.size < 0.01 * total
        assert any(name in path for path in pruned) != small, name  # small layers stay whole
    for kernel, mask in masks:
        weights = np.abs(kernel.numpy())
        assert weights[mask == 0].max() <= weights[mask == 1].min()  # every removed weight is a smallest one
    apply_masks(masks)
    assert sparsity(model) == pytest.approx(0.8, abs=1e-3)  # over all kernels, small layers included
    with pytest.raises(ValueError, match="sparsity"):
        magnitude_masks(model, 1.0)


def test_pruning_reaches_its_sparsity_and_keeps_most_of_the_accuracy(tiny, mnist, digits):
    images, labels = digits
    before = (predict_proba(tiny, images).argmax(axis=1) == labels).mean()
    reports = []
    pruned = prune(model_bytes(tiny), 0.8, mnist, steps=150, on_progress=reports.append)
    model = model_from_bytes(pruned.model)
    assert pruned.sparsity == pytest.approx(0.8, abs=1e-3) == sparsity(model)
    assert not pruned.stopped and pruned.steps == 150
    assert [r.step for r in reports] == list(range(10, 151, 10)) and reports[-1].sparsity == pytest.approx(0.8)
    assert (predict_proba(model, images).argmax(axis=1) == labels).mean() > before - 0.03
    assert pruned.accuracy == pytest.approx(
        (predict_proba(model, mnist.x_test / np.float32(255)).argmax(axis=1) == mnist.y_test).mean()
    )


def test_a_stopped_pruning_is_still_pruned_to_its_target(tiny, mnist):
    pruned = prune(model_bytes(tiny), 0.5, mnist, steps=60, should_stop=lambda: True)
    assert pruned.stopped and pruned.steps < 60
    assert sparsity(model_from_bytes(pruned.model)) == pytest.approx(0.5, abs=1e-3)


def test_the_distillation_loss_matches_its_formula(tiny, digits):
    """One step's loss against α · CE + (1 − α) · T² · KL computed here in numpy, with learning rate 0."""
    images, labels = digits[0][:64], digits[1][:64]
    student = build_mlp(hidden_units=(8,), dropout=0.0)
    temperature, alpha = 3.0, 0.25
    distiller = Distiller(student, tiny, temperature=temperature, alpha=alpha)
    distiller.compile(optimizer=keras.optimizers.SGD(0.0), loss="categorical_crossentropy", metrics=["accuracy"])
    onehot = np.eye(10, dtype=np.float32)[labels]
    loss = distiller.train_on_batch(images, onehot, return_dict=True)["loss"]

    def scores(model):  # the logits, from the last layer's input
        features = keras.Model(model.inputs, model.layers[-1].input)(images).numpy()
        return features @ model.layers[-1].kernel.numpy() + model.layers[-1].bias.numpy()

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    s, t = scores(student), scores(tiny)
    hard = -np.log(softmax(s)[np.arange(64), labels]).mean()
    p, q = softmax(t / temperature), softmax(s / temperature)
    soft = (p * (np.log(p) - np.log(q))).sum(axis=1).mean()
    assert loss == pytest.approx(alpha * hard + (1 - alpha) * temperature**2 * soft, rel=1e-4)
    assert not any(v is w for v in distiller.trainable_variables for w in tiny.weights)  # the teacher stays put


def test_a_distilled_run_names_its_teacher_and_learns(tiny, mnist):
    config = dataclasses.replace(TINY, train_size=1_000, seed=1)
    teacher = Distillation(model_bytes(tiny), "tiny teacher", temperature=2.0, alpha=0.5)
    result = train(config, mnist, distillation=teacher)
    assert result.teacher == "tiny teacher" and result.test_accuracy > 0.6
    with pytest.raises(ValueError, match="temperature"):
        train(config, mnist, distillation=dataclasses.replace(teacher, temperature=3.0))
    with pytest.raises(ValueError, match="adversarial"):
        train(dataclasses.replace(config, adversarial_eps=0.1), mnist, distillation=teacher)


def test_every_student_has_under_a_twentieth_of_the_default_models_parameters(default_model):
    for name, config in STUDENTS.items():
        config.validate()
        assert build(config).count_params() <= default_model.count_params() / 20, name


def test_quantize_all_reports_its_progress_and_one_variant_per_format(tiny, mnist):
    reports = []
    variants = quantize_all(tiny, mnist, source="tiny", names=("float32", "int8"), on_progress=reports.append)
    assert [v.quantization for v in variants] == ["float32", "int8"] and all(v.source == "tiny" for v in variants)
    assert [share for share, _ in reports] == [0.0, 0.5]

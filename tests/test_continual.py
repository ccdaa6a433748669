"""Split MNIST on the real data, with short runs: forgetting happens, and the remedies do what they claim."""

import time

import numpy as np
import pytest

from core.continual import TASKS, ContinualConfig, class_mask, replay_buffer, run
from core.pictures.data import Mnist
from core.runs.job import Job

SHORT = {"steps_per_task": 60, "batch_size": 64, "learning_rate": 1e-3}


@pytest.fixture(scope="module")
def small(mnist):
    return Mnist(mnist.x_train[:20000], mnist.y_train[:20000], mnist.x_test[:3000], mnist.y_test[:3000])


@pytest.fixture(scope="module")
def results(small):
    return {
        (method, scenario): run(ContinualConfig(method=method, scenario=scenario, **SHORT), small)
        for method, scenario in [
            ("finetune", "class"),
            ("replay", "class"),
            ("ewc", "task"),
            ("lwf", "class"),
            ("joint", "class"),
            ("finetune", "task"),
        ]
    }


def test_every_method_learns_each_task_as_it_comes(results):
    for result in results.values():
        assert (np.diag(result.accuracy) > 0.8).all()  # joint learns 10 digits in these 60 steps: the hardest
        assert np.isnan(result.accuracy[np.triu_indices(5, k=1)]).all()  # future tasks are not scored


def test_fine_tuning_forgets_everything_but_the_last_pair_when_asked_which_digit(results):
    forgetful = results[("finetune", "class")]
    assert forgetful.accuracy[4, 0] < 0.05  # 0/1 is gone by the end
    assert forgetful.average_accuracy < 0.25 and forgetful.forgetting > 0.9
    assert results[("finetune", "task")].average_accuracy > 0.6  # told the pair, much less is lost


def test_replay_and_joint_training_remember(results):
    assert results[("replay", "class")].average_accuracy > results[("finetune", "class")].average_accuracy + 0.4
    assert results[("joint", "class")].average_accuracy > 0.9
    assert results[("ewc", "task")].average_accuracy > 0.9


def test_the_curves_and_counts_describe_the_run(results, small):
    result = results[("replay", "class")]
    assert result.test_counts == tuple(int(np.isin(small.y_test, task).sum()) for task in TASKS)
    steps = [step for step, _ in result.curves]
    assert steps == sorted(steps) and steps[-1] == 5 * SHORT["steps_per_task"]
    assert np.isnan(result.curves[0][1][1:]).all()  # while learning 0/1, nothing else is scored
    assert len(result.averages) == 5 and result.averages[-1] == pytest.approx(result.average_accuracy)


def test_the_replay_buffer_is_balanced_and_never_larger_than_asked(small):
    buffer = replay_buffer(small.y_train, [0, 1, 2, 3], 37, seed=0)
    counts = np.bincount(small.y_train[buffer], minlength=10)
    assert list(counts[:4]) == [37] * 4 and counts[4:].sum() == 0
    assert len(set(buffer)) == len(buffer)


def test_masks_let_only_the_right_digits_compete():
    task, seen = class_mask(ContinualConfig(scenario="task"), 2), class_mask(ContinualConfig(scenario="class"), 2)
    assert list(np.flatnonzero(task == 0)) == [4, 5]
    assert list(np.flatnonzero(seen == 0)) == [0, 1, 2, 3, 4, 5]


def test_a_run_is_reproducible_with_its_seed(small):
    config = ContinualConfig(method="replay", steps_per_task=20, batch_size=32, seed=3)
    first, again = run(config, small), run(config, small)
    np.testing.assert_array_equal(first.accuracy, again.accuracy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "sgd"}, "method must be"),
        ({"scenario": "domain"}, "scenario"),
        ({"buffer_per_class": 0}, "buffer"),
        ({"steps_per_task": 5}, "steps per task"),
    ],
)
def test_invalid_configs_say_what_to_fix(change, message):
    with pytest.raises(ValueError, match=message):
        ContinualConfig(**change).validate()


def test_a_run_goes_through_the_job_runner_and_stop_keeps_the_tasks_done(small):
    config = ContinualConfig(method="replay", steps_per_task=400, batch_size=64)
    job = Job(run, (config, small), memory_mb=1500)
    job.start()
    deadline = time.monotonic() + 90
    while (job.progress is None or job.progress.result.tasks_done < 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    job.stop()
    while job.running:
        time.sleep(0.1)
    assert job.error is None and 1 <= job.result.tasks_done < 5

"""Knowledge distillation (Hinton, Vinyals & Dean 2015): a small student learns from a big teacher's answers.

The teacher's softened probabilities say more than the labels do: that this 7 looks a little like a 1,
that 4 a little like a 9. A student trained to match them, as well as the labels, learns more from
the same digits than it would alone. Training goes through `core.training.loop.train` (and so through the
one job runner), with the student wrapped in a Distiller.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from core.i18n import Text
from core.models import logits, model_from_bytes, update_metrics

TEMPERATURES = (1.0, 2.0, 4.0, 8.0, 16.0)
ALPHAS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Distillation:
    teacher: bytes  # the teacher, as a .keras file: it travels to the training process as bytes
    teacher_name: str  # as the sidebar names it
    temperature: float = 4.0  # T: both networks' scores are divided by it before the softmax; higher is softer
    alpha: float = 0.1  # weight of the labels' cross-entropy; the teacher's softened answers get 1 - alpha

    def validate(self) -> None:
        if self.temperature not in TEMPERATURES:
            raise ValueError(Text("temperature must be one of {join}", join=", ".join(f"{t:g}" for t in TEMPERATURES)))
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(Text("alpha must be from 0 to 1; got {alpha}", alpha=self.alpha))


class Distiller(keras.Model):
    """Trains `student` on α · cross-entropy(labels) + (1 − α) · T² · KL(teacher_T ‖ student_T).

    The T² keeps the soft term's gradients as large as the hard term's whatever T is (Hinton et al.,
    section 2). The teacher only answers: frozen, in inference mode. Fit this wrapper; keep `network`.
    """

    def __init__(self, network: keras.Model, teacher: keras.Model, *, temperature: float, alpha: float, **kwargs):
        super().__init__(**kwargs)
        teacher.trainable = False
        self.network, self.teacher = network, teacher
        self.temperature, self.alpha = float(temperature), float(alpha)
        self.student_scores, self.teacher_scores = logits(network), logits(teacher)

    def call(self, images, training=False):
        return self.network(images, training=training)

    def train_step(self, data):
        images, targets = data[:2]  # (B, 28, 28) in [0, 1]; (B, 10) one-hot, perhaps smoothed
        soft_targets = tf.nn.softmax(self.teacher_scores(images, training=False) / self.temperature)
        with tf.GradientTape() as tape:
            scores = self.student_scores(images, training=True)  # (B, 10)
            predicted = tf.nn.softmax(scores)
            hard = self.compute_loss(x=images, y=targets, y_pred=predicted)  # the compiled loss, regularisers too
            # KL(p ‖ q) = Σ p log p − Σ p log q; the first sum does not depend on the student
            log_student = tf.nn.log_softmax(scores / self.temperature)
            soft = tf.reduce_mean(tf.reduce_sum(soft_targets * (tf.math.log(soft_targets + 1e-12) - log_student), -1))
            loss = self.alpha * hard + (1.0 - self.alpha) * self.temperature**2 * soft
        gradients = tape.gradient(loss, self.network.trainable_variables)
        self.optimizer.apply(gradients, self.network.trainable_variables)
        return update_metrics(self, loss, targets, predicted)


def wrap(network: keras.Model, distillation: Distillation) -> Distiller:
    """The student `network` wrapped to learn from the distillation's teacher (loaded here, in the run's process)."""
    teacher = model_from_bytes(distillation.teacher)
    return Distiller(network, teacher, temperature=distillation.temperature, alpha=distillation.alpha)

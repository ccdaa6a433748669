from core.share import config_from_params, config_to_params
from core.training import PRESETS, TrainConfig


def test_a_config_survives_the_round_trip_through_a_url():
    config = TrainConfig(architecture="mlp", learning_rate=0.01, augment=True, epochs=3, dropout=0.5)
    restored, notices = config_from_params(config_to_params(config))
    assert restored == config and notices == []


def test_bad_values_fall_back_to_the_default_with_a_notice():
    config, notices = config_from_params({"epochs": "lots", "learning_rate": "9", "augment": "yes", "seed": "7"})
    assert config.epochs == PRESETS["quick"].epochs and config.learning_rate == PRESETS["quick"].learning_rate
    assert not config.augment and config.seed == 7
    assert len(notices) == 3 and all(n.startswith("Ignored") for n in notices)

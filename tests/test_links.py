import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from core.i18n import Text
from core.training.budget import estimate
from core.training.config import CHOICES, PRESETS, TrainConfig
from core.training.links import config_from_params, config_to_params


def test_a_config_survives_the_round_trip_through_a_url():
    config = TrainConfig(architecture="mlp", learning_rate=0.01, augment=True, epochs=3, dropout=0.5)
    restored, notices = config_from_params(config_to_params(config))
    assert restored == config and notices == []


def test_bad_values_fall_back_to_the_preset_and_in_between_values_snap_to_a_stop():
    config, notices = config_from_params({"epochs": "lots", "learning_rate": "0.005", "augment": "yes", "seed": "7"})
    assert config.epochs == PRESETS["quick"].epochs and config.learning_rate == 0.003
    assert not config.augment and config.seed == 7
    assert [str(notice).split()[0] for notice in notices] == ["The", "Ignored", "Ignored"]
    assert "using the nearest, 0.003" in str(notices[0])


def test_numbers_a_float_cannot_hold_are_ignored_not_raised():
    config, notices = config_from_params({"epochs": "inf", "seed": "1e400", "dropout": "nan", "filters": "-1e308"})
    assert config.epochs == 2 and config.seed == 0 and config.dropout == 0.2 and config.filters == 4
    assert len(notices) == 4


def test_a_link_beyond_the_servers_budget_is_shrunk_with_a_notice():
    greedy = {
        "architecture": "deep_cnn",
        "conv_blocks": "3",
        "filters": "128",
        "dense_units": "1024",
        "batch_size": "2048",
        "epochs": "50",
        "augment": "true",
    }
    config, notices = config_from_params(greedy)
    assert estimate(config).over_budget() is None
    assert config.architecture == "deep_cnn" and config.conv_blocks == 3 and config.filters == 64
    assert any("larger than this server allows a training" in str(notice) for notice in notices)


FIELDS = [field.name for field in dataclasses.fields(TrainConfig)]
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["inf", "-inf", "nan", "1e400", "0x10", "1_000", " 2 ", "", "true", "false", "0.005", "-0", "1e-400"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS + ["other", ""]), texts, max_size=len(FIELDS)))
def test_any_link_gives_a_config_the_page_can_show_within_the_budget(params):
    config, notices = config_from_params(params)
    config.validate()  # every field is one of its CHOICES: a stop of the page's control
    for name, allowed in CHOICES.items():
        assert getattr(config, name) in allowed
    assert estimate(config).over_budget() is None
    assert all(isinstance(notice, Text) and "\n" not in str(notice) for notice in notices)  # shown as it is

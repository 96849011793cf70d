"""Training config: the defaults are the paper's recipe, TOML files override them, mistakes are named."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pose.skeleton import SKELETONS
from pose.train.config import (
    CONFIG_DIR,
    ConfigError,
    TrainConfig,
    load_config,
    parse_override,
    resolve_config_path,
)


def _write(tmp_path, text: str):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_dite_hrnet_coco_recipe():
    config = TrainConfig()
    assert (config.optim.lr, config.optim.warmup_iters, config.optim.warmup_ratio) == (2e-3, 500, 0.001)
    assert (config.optim.milestones, config.optim.gamma, config.optim.epochs) == ((170, 200), 0.1, 270)
    assert (config.train.batch_size, config.train.val_interval) == (32, 10)
    assert (config.augment.flip_prob, config.augment.half_body_prob, config.augment.half_body_min_joints) == (
        0.5, 0.3, 8,
    )
    assert (config.augment.scale_factor, config.augment.rotation_factor, config.augment.rotation_prob) == (
        0.25, 30.0, 0.6,
    )
    assert (config.model.name, config.model.input_size) == ("edite_hrnet_s", (256, 192))
    assert config.data.skeleton == "coco"


def test_toml_overrides_only_what_it_names(tmp_path):
    path = _write(tmp_path, '[model]\nname = "edite_hrnet_l"\ninput_size = [384, 288]\n[optim]\nlr = 1\n')
    config = load_config(path)
    assert config.model.name == "edite_hrnet_l"
    assert config.model.input_size == (384, 288)
    assert config.optim.lr == 1.0 and isinstance(config.optim.lr, float)
    assert config.optim.epochs == TrainConfig().optim.epochs
    assert config.train == TrainConfig().train


def test_overrides_apply_after_the_file(tmp_path):
    path = _write(tmp_path, "[train]\nbatch_size = 16\n")
    config = load_config(path, {"train.batch_size": 8, "optim.milestones": []})
    assert config.train.batch_size == 8
    assert config.optim.milestones == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[trian]\nseed = 1\n", "unknown section [trian]"),
        ("[train]\nbatchsize = 8\n", "unknown key 'batchsize'"),
        ("[train]\nbatch_size = 8.5\n", "batch_size must be int"),
        ("[train]\namp = 1\n", "amp must be bool"),
        ("[model]\ninput_size = [256]\n", "input_size must be a list of 2 values"),
        ("[optim]\nmilestones = 170\n", "milestones must be a list"),
        ("[data]\nskeleton = \"halpe\"\n", "skeleton 'halpe' is unknown"),
        ("[train]\nbatch_size = 1\n", "batch_size must be at least 2"),
        ("[augment]\ntruncation_prob = 25\n", "truncation_prob is a probability: give a value from 0 to 1"),
        ("[augment]\nflip_prob = -0.5\n", "flip_prob is a probability"),
        ("[train\n", "not valid TOML"),
    ],
)
def test_mistakes_are_named(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_unknown_config_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="edite_hrnet_s_coco_256x192"):
        resolve_config_path("no_such_config")


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_configs_load_by_name(path):
    config = load_config(path.stem)
    family, _, rest = path.stem.partition("_hrnet_")
    variant, dataset, size = rest.split("_")
    assert config.model.name == f"{family}_hrnet_{variant}"
    assert config.data.skeleton == dataset
    assert "x".join(map(str, config.model.input_size)) == size
    assert config.data.metric == ("pckh" if dataset == "mpii" else "coco")


def test_shipped_configs_cover_the_paper_experiments():
    names = {path.stem for path in CONFIG_DIR.glob("*.toml")}
    for variant in ("s", "l"):
        for experiment in ("coco_256x192", "coco_384x288", "mpii_256x256", "crowdpose_256x192"):
            assert f"edite_hrnet_{variant}_{experiment}" in names
    assert "dite_hrnet_18_coco_256x192" in names
    assert set(SKELETONS) >= {"coco", "mpii", "crowdpose"}


def test_mpii_configs_follow_mmpose_mpii_recipe():
    config = load_config("edite_hrnet_s_mpii_256x256")
    assert config.augment.half_body_prob == 0.0
    assert config.augment.center_jitter_prob == 0.0
    assert config.optim.epochs == 260


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train.batch_size=8", ("train.batch_size", 8)),
        ("optim.lr = 1e-3", ("optim.lr", 1e-3)),
        ("optim.milestones=[10, 20]", ("optim.milestones", [10, 20])),
        ("data.root=/data/coco", ("data.root", "/data/coco")),
        ("train.amp=false", ("train.amp", False)),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


def test_parse_override_needs_key_and_value():
    with pytest.raises(ConfigError, match=r"SECTION\.KEY=VALUE"):
        parse_override("train.batch_size")
    with pytest.raises(ConfigError, match=r"SECTION\.KEY"):
        load_config(None, {"batch_size": 8})


def test_to_dict_round_trips_through_overrides():
    config = load_config("edite_hrnet_l_mpii_256x256")
    flat = {
        f"{section}.{key}": value
        for section, values in config.to_dict().items()
        for key, value in values.items()
    }
    assert load_config(None, flat) == config


def test_a_runs_saved_json_config_loads_back_and_takes_overrides(tmp_path):
    config = load_config("edite_hrnet_l_mpii_256x256", {"optim.lr": 1e-4})
    saved = tmp_path / "config.json"
    saved.write_text(json.dumps(config.to_dict()), encoding="utf-8")
    assert load_config(saved) == config
    assert load_config(saved, {"optim.epochs": 3}).optim == dataclasses.replace(config.optim, epochs=3)
    saved.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(saved)
    saved.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="a JSON object of sections"):
        load_config(saved)

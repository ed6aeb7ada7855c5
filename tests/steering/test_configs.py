"""Typed steerer configs: validation, legacy names, overrides, spec merging, old artifacts."""

import json
import math
import warnings

import pytest

from musicinterp.compare.run import DEFAULT_SWEEPS
from musicinterp.steering import (
    METHODS,
    ApplySpec,
    DiffMeansConfig,
    ITIConfig,
    RegressionConfig,
    RegressionSteerer,
    SAESteererConfig,
    SMITINConfig,
    SMITINSteerer,
    SpecError,
    Steerer,
    SteererConfigError,
    config_from_overrides,
)

from .conftest import fit_all


@pytest.mark.parametrize("method", sorted(METHODS))
def test_default_strengths_lie_inside_the_default_sweeps(method):
    sweep = DEFAULT_SWEEPS[method]
    assert min(sweep) <= METHODS[method][1]().strength <= max(sweep)


@pytest.mark.parametrize("bad", [dict(k=-3), dict(k=0), dict(strength=math.nan), dict(strength=math.inf),
                                 dict(direction="sideways"), dict(C=0.0), dict(remove="yes"), dict(k=2.5)])
def test_bad_iti_configs_name_the_field(bad):
    with pytest.raises(SteererConfigError, match=f"ITIConfig.{next(iter(bad))}"):
        ITIConfig(**bad)


@pytest.mark.parametrize("cls,bad", [(SMITINConfig, dict(interval=0)), (SMITINConfig, dict(tau=math.nan)),
                                     (DiffMeansConfig, dict(layers=[-1])), (DiffMeansConfig, dict(layers="some")),
                                     (RegressionConfig, dict(strength=-0.5)), (RegressionConfig, dict(period=0)),
                                     (SAESteererConfig, dict(mode="boost")), (SAESteererConfig, dict(n_features=0))])
def test_bad_configs_of_every_method_name_the_field(cls, bad):
    with pytest.raises(SteererConfigError, match=f"{cls.__name__}.{next(iter(bad))}"):
        cls(**bad)


def test_legacy_strength_keywords_warn_and_map_to_strength():
    with pytest.warns(DeprecationWarning, match="use strength="):
        assert ITIConfig(alpha=3).strength == 3.0
    with pytest.warns(DeprecationWarning, match="use strength="):
        assert DiffMeansConfig(lam=1.5).strength == 1.5
    with pytest.raises(SteererConfigError, match="strength= only"):
        SMITINConfig(alpha=3, strength=4)


def test_sae_config_is_a_deprecated_alias_that_warns_once():
    import musicinterp.steering as steering

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = steering.SAEConfig, steering.SAEConfig
    assert first is second is SAESteererConfig
    assert len([w for w in caught if issubclass(w.category, DeprecationWarning)]) <= 1


def test_overrides_parse_each_field_to_its_type():
    c = config_from_overrides(SMITINConfig, ["strength=12", "tau=none", "monitor_frames=7", "latch=true"])
    assert (c.strength, c.tau, c.monitor_frames, c.latch) == (12.0, None, 7, True)
    d = config_from_overrides(DiffMeansConfig, ["layers=1,2"], base=DiffMeansConfig(strength=2.5))
    assert d.layers == [1, 2] and d.strength == 2.5
    assert config_from_overrides(DiffMeansConfig, ["layers=all"]).layers == "all"
    with pytest.raises(SteererConfigError, match="no field 'foo'; valid: k, strength"):
        config_from_overrides(ITIConfig, ["foo=1"])
    with pytest.raises(SteererConfigError, match="ITIConfig.k"):
        config_from_overrides(ITIConfig, ["k=0"])
    with pytest.raises(SteererConfigError, match="key=value"):
        config_from_overrides(ITIConfig, ["k"])


def test_a_spec_passed_to_fit_merges_with_the_method_defaults(tiny_store):
    _, store = tiny_store
    smitin = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, interval=3), spec=ApplySpec(layers=[0]))
    assert smitin.spec.resolved()["every"] == 3 and smitin.spec.layers == (0,)
    reg = RegressionSteerer.fit(store, "drums", RegressionConfig(layers=[0], period=2), spec=ApplySpec(start=1))
    assert (reg.spec.rows_or_default, reg.spec.resolved()["every"], reg.spec.start) == ("cond", 2, 1)
    with pytest.raises(SpecError, match="cannot honour ApplySpec.heads"):
        RegressionSteerer.fit(store, "drums", RegressionConfig(layers=[0]), spec=ApplySpec(heads=[(0, 0)]))


def test_steerers_keep_typed_configs_and_old_artifacts_still_load(tiny_store, tmp_path):
    model, store = tiny_store
    steerers = fit_all(store)
    assert isinstance(steerers["iti"].config, ITIConfig) and steerers["iti"].config.k == 3
    for name, st in steerers.items():
        st.save(tmp_path / name)
        assert type(Steerer.load(tmp_path / name).config) is type(st.config)
    old = tmp_path / "smitin"  # the wave-2 layout: a dict with `alpha` and the fit outputs in the config
    info = json.loads((old / "steerer.json").read_text())
    config = info["config"]
    config["alpha"] = config.pop("strength")
    config.update(tau_derived=True)
    (old / "steerer.json").write_text(json.dumps(info))
    again = Steerer.load(old, model)
    assert again.strength == steerers["smitin"].strength and again.meta["tau_derived"] is True


def test_out_of_range_layers_heads_and_strengths_are_refused_at_apply(tiny_store):
    model, store = tiny_store
    steerers = fit_all(store)
    with pytest.raises(SpecError, match=f"layer 99, but model .* has {model.n_layers} layers"):
        with steerers["diffmeans"].apply(model, spec=ApplySpec(layers=[99])):
            pass
    with pytest.raises(SpecError, match=f"head 40 .* has {model.n_heads} heads"):
        steerers["iti"].prepare(model, spec=ApplySpec(heads=[(0, 40)]))
    with pytest.raises(SteererConfigError, match="finite"):
        with steerers["iti"].apply(model, strength=math.nan):
            pass
    assert not model.steering

"""The comparison harness: every steerer's sweep and the baseline in one batch equal one setting at a time (greedy)."""

import pytest
import torch

from musicinterp import load_model
from musicinterp.compare.run import Task, run_comparison
from musicinterp.steering import ITIConfig, ITISteerer


@pytest.mark.parametrize(("max_rows", "sampled"), [(None, False), (8, False), (None, True), (5, True), (5, False), (2, True)])
def test_batched_sweep_matches_one_setting_at_a_time(tiny_store_for_compare, max_rows, sampled):
    """One generation, or one per steerer (the cap splits them), or the prompts in parts (a cap of 5 rows: prompts
    0-1, then 2; of 2 rows: one prompt a part, and the noise floor's prompts two at a time); greedy, or sampled
    with paired keyed noise."""
    from musicinterp.steering import SMITINConfig, SMITINSteerer

    model, store = tiny_store_for_compare
    steerers = {"iti": ITISteerer.fit(store, "drums", ITIConfig(k=3, strength=4.0)),
                "smitin": SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=1))}
    prompts = torch.randint(0, 2048, (3, 4, 6), generator=torch.Generator().manual_seed(1))
    task = Task("continuation", {"prompt_codes": prompts, "n_frames": 5, "do_sample": sampled}, prompt_frames=6)
    kw = dict(tasks=[task], sweeps={"iti": [0.0, 60.0, 400.0], "smitin": [30.0, 300.0]}, progress=False,
              keep_results=True)
    batched = run_comparison(model, steerers, "drums", batched=True, max_rows=max_rows, **kw)
    looped = run_comparison(model, steerers, "drums", batched=False, **kw)
    assert len(batched.rows) == len(looped.rows) == 5
    assert batched.unsteered["continuation"]["nll"] == pytest.approx(looped.unsteered["continuation"]["nll"], abs=1e-5)
    assert batched.floor["continuation"]["nll"] == pytest.approx(looped.floor["continuation"]["nll"], abs=1e-5)
    for a, b in zip(batched.rows, looped.rows, strict=True):
        assert (a["method"], a["strength"]) == (b["method"], b["strength"])
        assert torch.equal(a["result"].codes, b["result"].codes)
        assert a["success"] == b["success"] and abs(a["nll"] - b["nll"]) < 1e-5
        assert a["steps_edited"] == b["steps_edited"]
        assert a.get("monitor_final") == pytest.approx(b.get("monitor_final"), abs=1e-5)
    assert not torch.equal(batched.rows[0]["result"].codes, batched.rows[2]["result"].codes)
    # strength 0 changes nothing: paired sampling reproduces the baseline, so its collateral is exactly 0
    assert batched.rows[0]["strength"] == 0.0 and batched.rows[0]["collateral"] == 0.0
    assert batched.rows[0]["nll"] == pytest.approx(batched.unsteered["continuation"]["nll"], abs=1e-5)
    assert load_model  # the harness is model-agnostic in its inputs: a random model runs it


def test_long_tasks_are_generated_in_parts_of_prompts_only_when_paired():
    from musicinterp.compare.tasks import prompt_parts

    assert prompt_parts(48, 96, True) == [(0, 48)]
    assert prompt_parts(100, 96, True) == [(0, 48), (48, 96), (96, 100)]
    assert prompt_parts(100, 96, False) == [(0, 100)]  # unkeyed noise depends on the batch: never split
    assert prompt_parts(100, None, True) == [(0, 100)]


def test_rows_are_packed_into_generations_of_at_most_max_rows():
    from musicinterp.compare.tasks import _groups

    sizes = [("a", 4), ("b", 4), ("c", 8), ("d", 1)]
    assert _groups(sizes, 16, None) == [["a", "b", "c", "d"]]
    assert _groups(sizes, 16, 160) == [["a", "b"], ["c", "d"]]  # 16 baseline + 64 + 64 rows, then 128 + 16
    assert _groups(sizes, 16, 8) == [["a"], ["b"], ["c"], ["d"]]  # a sweep over the cap still runs, alone


def test_best_marks_settings_outside_the_limits():
    from musicinterp.compare.run import Comparison

    comp = Comparison(target="drums", add=True)
    base = {"task": "t", "nll_increase": 0.1}
    comp.rows = [{**base, "method": "a", "strength": 1.0, "success": 0.9, "validity": 0.0, "collateral": 0.0},
                 {**base, "method": "b", "strength": 1.0, "success": 0.5, "validity": 1.0, "collateral": 0.0},
                 {**base, "method": "b", "strength": 2.0, "success": 1.0, "validity": 1.0, "collateral": 0.5}]
    best = {r["method"]: r for r in comp.best("t")}
    assert best["a"]["within_limits"] is False  # validity 0.00 is never printed as a best setting
    assert best["b"]["within_limits"] is True and best["b"]["strength"] == 1.0
    frame = comp.to_pandas()
    assert list(frame["within_limits"]) == [False, True, False]
    assert "3 settings, 1 within limits" in repr(comp)


# ----------------------------------------------------------------------------- the model-agnostic compare
def _compare_tiny(model, store, **kw):
    import musicinterp.organism as J
    from musicinterp.compare.run import compare
    from musicinterp.compare.tasks import continuation_task

    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3, strength=4.0))
    prompts = torch.randint(0, 2048, (3, 4, 6), generator=torch.Generator().manual_seed(3))
    task = continuation_task("cont", prompts, n_frames=8, do_sample=False)
    judges = J.organism_judges()
    comp = compare(model, {"iti": iti}, [task], judges, {"iti": [0.0, 400.0]}, progress=False, keep_results=True,
                   continuity=[J.OrganismKeyKept(), J.OrganismTempoKept()], **kw)
    return comp, task, judges


def test_the_target_concepts_own_continuity_is_not_collateral(tiny_store_for_compare):
    """Steering tempo changes tempo on purpose: "tempo kept" leaves collateral, "key kept" stays in it."""
    model, store = tiny_store_for_compare
    comp, _, _ = _compare_tiny(model, store, target="tempo")
    assert comp.target == "tempo"
    for row in comp.rows:
        assert "key_kept" in row["collateral_by_judge"] and "tempo_kept" not in row["collateral_by_judge"]
        assert not any(k.endswith("tempo") for k in row["collateral_by_judge"])
    drums, _, _ = _compare_tiny(model, store)
    assert all("tempo_kept" in row["collateral_by_judge"] for row in drums.rows)


def test_compare_rows_equal_their_oracles(tiny_store_for_compare):
    from musicinterp.compare.fidelity import token_distance
    from musicinterp.engine.generation import generate
    from musicinterp.engine.likelihood import nll_under
    from musicinterp.organism import OrganismKeyKept, OrganismTempoKept, world_validity

    model, store = tiny_store_for_compare
    comp, task, judges = _compare_tiny(model, store)
    assert comp.target == "drums" and comp.judges == [j.name for j in judges]
    base = comp.unsteered["cont"]
    base_codes = generate(model, seed=0, decode_audio=False, **task.kwargs).codes
    pf = task.prompt_frames
    for j in judges:
        assert base[f"rate_{j.name}"] == j(base_codes[..., pf:]).rate
    assert base["token_distance"] == 0.0 and base["collateral"] == 0.0 and base["within_limits"] is True
    assert base["nll"] == pytest.approx(float(nll_under(model, base_codes, None, pf).mean()), abs=1e-6)
    assert len(comp.rows) == 2
    for row in comp.rows:
        codes = row["result"].codes
        assert codes.shape == base_codes.shape  # same prompts, seeds and lengths as the baseline
        gen = codes[..., pf:]
        assert row["success"] == judges[0](gen).rate
        assert row["validity"] == float(world_validity(gen).float().mean())  # the fixture judges in the organism's world
        assert row["token_distance"] == pytest.approx(token_distance(gen, base_codes[..., pf:], 2048))
        assert row["nll_increase"] == pytest.approx(row["nll"] - base["nll"])
        moves = [abs(j(gen).rate - base[f"rate_{j.name}"]) for j in judges[1:]]
        moves += [abs(k(codes[..., :pf], gen).rate - base[f"{k.concept}_kept"])
                  for k in (OrganismKeyKept(), OrganismTempoKept())]
        assert row["collateral"] == pytest.approx(max(moves))
        assert row["within_limits"] == (row["collateral"] <= 0.10 and row["validity"] >= 0.95)
    assert comp.rows[0]["token_distance"] == 0.0  # strength 0 leaves the generation unchanged
    assert comp.rows[1]["token_distance"] > 0.0
    floor = comp.floor["cont"]  # greedy decoding: a re-sampled baseline is the baseline
    assert floor["collateral"] == 0.0 and floor["token_distance"] == 0.0
    frame = comp.to_pandas()
    assert list(frame["method"]) == ["unsteered", "iti", "iti"] and "collateral_by_judge" not in frame
    assert list(frame["collateral_floor"]) == [0.0, 0.0, 0.0]


def test_the_noise_floor_is_a_second_unsteered_sample_scored_like_a_setting(tiny_store_for_compare):
    """Sampled: the floor row is the baseline task generated with keys n..2n-1, its judges' moves the collateral."""
    import musicinterp.organism as J
    from musicinterp.compare.run import compare
    from musicinterp.compare.tasks import continuation_task
    from musicinterp.engine.generation import generate

    model, store = tiny_store_for_compare
    prompts = torch.randint(0, 2048, (4, 4, 6), generator=torch.Generator().manual_seed(5))
    task = continuation_task("cont", prompts, n_frames=8, do_sample=True, top_k=50)
    judges = J.organism_judges()
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3, strength=4.0))
    comp = compare(model, {"iti": iti}, [task], judges, {"iti": [0.0]}, progress=False, continuity=[])
    base = generate(model, seed=0, decode_audio=False, row_keys=list(range(4)), **task.kwargs).codes
    again = generate(model, seed=0, decode_audio=False, row_keys=list(range(4, 8)), **task.kwargs).codes
    assert not torch.equal(base, again)
    moves = [abs(j(again[..., 6:]).rate - j(base[..., 6:]).rate) for j in judges[1:]]
    floor = comp.floor["cont"]
    assert floor["method"] == "unsteered (re-sampled)" and floor["token_distance"] > 0
    assert floor["collateral"] == pytest.approx(max(moves)) == comp.collateral_floor("cont")
    assert comp.rows[0]["collateral"] == 0.0  # the paired strength-0 setting sits below the floor
    assert "collateral floor cont" in repr(comp)
    assert comp.to_pandas()["collateral_floor"].tolist() == [floor["collateral"]] * 2
    assert not compare(model, {"iti": iti}, [task], judges, {"iti": [0.0]}, progress=False, continuity=[],
                       noise_floor=False).floor
    with pytest.raises(KeyError, match="no collateral floor for task 'x'"):
        comp.collateral_floor("x")


def test_compare_remove_direction_and_limits(tiny_store_for_compare):
    model, store = tiny_store_for_compare
    comp, _, _ = _compare_tiny(model, store, add=False, max_collateral=1.0, min_validity=0.0)
    for row in comp.rows:
        assert row["success"] == 1 - row["rate_organism:drums"]
        assert row["within_limits"] is True  # any collateral and validity are within limits of 1.0 and 0.0


def test_compare_refuses_bad_arguments(tiny_store_for_compare):
    import musicinterp.organism as J
    from musicinterp.compare.run import compare
    from musicinterp.compare.tasks import text_task

    model, store = tiny_store_for_compare
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3))
    task = Task("t", {"batch": 1, "n_frames": 4})
    with pytest.raises(ValueError, match="tasks must be a non-empty list"):
        compare(model, {"iti": iti}, [], J.organism_judges())
    with pytest.raises(ValueError, match="no judge reads target 'drums'"):
        compare(model, {"iti": iti}, [task], [J.OrganismJudge("bass")])
    with pytest.raises(ValueError, match="distinct names"):
        compare(model, {"iti": iti}, [task], [J.OrganismJudge("drums"), J.OrganismJudge("drums")])
    with pytest.raises(ValueError, match="no strengths for steerer 'mine'"):
        compare(model, {"mine": iti}, [task], J.organism_judges())
    with pytest.raises(ValueError, match="steerers must be a dict"):
        compare(model, [iti], [task], J.organism_judges())
    assert text_task("x", "a", n_frames=4, n=3).n == 3


@pytest.mark.slow
def test_compare_runs_on_a_random_real_shape_model_with_audio_judges():
    """It must run (not succeed): random MusicGen-small, a tiny random CLAP and the audio judges, one short
    continuation (controls are tested on the tiny model: here they would double the slowest test)."""
    from musicinterp.compare.run import compare
    from musicinterp.compare.tasks import continuation_task
    from musicinterp.judges import audio_judges, clap_judges
    from musicinterp.steering import DiffMeansSteerer
    from tests.judges.test_clap_model import tiny_handle

    model = load_model("random-small")
    layers, width = model.n_layers, model.hf.config.decoder.hidden_size
    steerer = DiffMeansSteerer(concept="drums", site="resid", config={"lam": 1.0, "layers": [layers - 1],
                                                                       "remove": False},
                               tensors={"v": torch.randn(layers, width, generator=torch.Generator().manual_seed(0))},
                               model_fingerprint=model.fingerprint, model_id=model.name)
    prompt = torch.randint(0, model.codebook_size, (1, model.n_codebooks, 25),
                           generator=torch.Generator().manual_seed(1))
    task = continuation_task("continuation", prompt, n_frames=25, guidance_scale=1.0)  # 0.5 s, the judges' minimum
    judges = [*clap_judges(tiny_handle(), {"drums": ("drums", "no drums")}), *audio_judges()]
    comp = compare(model, {"diffmeans": steerer}, [task], judges, {"diffmeans": [5.0]}, progress=False)
    frame = comp.to_pandas()
    assert list(frame["method"]) == ["unsteered", "diffmeans"] and "collateral_floor" in frame
    assert "rate_clap:drums" in frame and "verdict" in frame
    row = comp.rows[0]
    assert set(row) >= {"success", "nll", "nll_increase", "token_distance", "collateral", "key_kept", "tempo_kept",
                        "within_limits", "rate_audio:percussive", "rate_audio:low-end"}
    assert 0.0 <= row["success"] <= 1.0 and 0.0 <= row["token_distance"] <= 1.0
    assert row["validity"] is None


def test_calibrated_steerers_run_at_their_found_strength_and_rows_say_so(tiny_store_for_compare):
    """With calibrated=True a steerer holding a calibrated strength runs at it alone (its control too); one
    without runs its sweep; every row's strength_from names the source."""
    model, store = tiny_store_for_compare
    found = ITISteerer.fit(store, "drums", ITIConfig(k=3))
    found.meta["calibrated_strength"] = 7.5
    plain = ITISteerer.fit(store, "drums", ITIConfig(k=2))
    prompts = torch.randint(0, 2048, (3, 4, 6), generator=torch.Generator().manual_seed(1))
    task = Task("continuation", {"prompt_codes": prompts, "n_frames": 3, "do_sample": False}, prompt_frames=6)
    comp = run_comparison(model, {"found": found, "plain": plain}, "drums", tasks=[task], progress=False,
                          sweeps={"found": [1.0, 2.0], "plain": [1.0, 2.0]}, calibrated=True, controls=1,
                          noise_floor=False)
    by = {(r["method"], r["strength"]): r["strength_from"] for r in comp.rows}
    assert by == {("found", 7.5): "calibrated", ("found~random0", 7.5): "calibrated",
                  ("plain", 1.0): "grid", ("plain", 2.0): "grid", ("plain~random0", 1.0): "grid",
                  ("plain~random0", 2.0): "grid"}
    again = run_comparison(model, {"found": found}, "drums", tasks=[task], progress=False,
                           sweeps={"found": [1.0, 2.0]}, noise_floor=False)  # not asked: the grid
    assert [(r["strength"], r["strength_from"]) for r in again.rows] == [(1.0, "grid"), (2.0, "grid")]


def test_a_monitor_that_starts_late_runs_batched_beside_a_steerer_from_step_zero(tiny_store_for_compare):
    """SMITIN's monitor reads only from its window's start; in one generation with a steerer that edits from step
    0, the steps before it are visited too, and its rows equal SMITIN's generation alone."""
    from musicinterp.steering import ApplySpec, SMITINConfig, SMITINSteerer

    model, store = tiny_store_for_compare
    steerers = {"iti": ITISteerer.fit(store, "drums", ITIConfig(k=3, strength=4.0)),
                "smitin": SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=1),
                                            spec=ApplySpec(start=2))}
    prompts = torch.randint(0, 2048, (2, 4, 6), generator=torch.Generator().manual_seed(2))
    task = Task("continuation", {"prompt_codes": prompts, "n_frames": 5, "do_sample": True}, prompt_frames=6)
    kw = dict(tasks=[task], sweeps={"iti": [60.0], "smitin": [300.0]}, progress=False, keep_results=True)
    batched = run_comparison(model, steerers, "drums", batched=True, **kw)
    looped = run_comparison(model, steerers, "drums", batched=False, **kw)
    (a,), (b,) = ([r for r in comp.rows if r["method"] == "smitin"] for comp in (batched, looped))
    assert torch.equal(a["result"].codes, b["result"].codes)
    assert a["monitor_final"] == pytest.approx(b["monitor_final"], abs=1e-5)
    assert torch.allclose(a["result"].readings, b["result"].readings, atol=1e-5)
    assert a["result"].readings.shape[0] == 6  # steps 2..7 of 8 (5 frames, 3 steps of delay): none before its start

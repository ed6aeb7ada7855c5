"""The strength finder: bisection over strengths, batched per round, on known toys and on the organism."""

import pytest

from musicinterp.compare.intervals import Limits
from musicinterp.steering import SteererConfigError
from musicinterp.steering.strength_finder import search_strength


def _step(at: float, calls: list):
    def evaluate(strengths):
        calls.append(list(strengths))
        return [(1.0 if s >= at else 0.0, 0.0, 1.0) for s in strengths]
    return evaluate


@pytest.mark.parametrize("at", [0.37, 0.05, 0.999, 0.5])
def test_a_step_in_success_is_found_within_tolerance_in_four_rounds(at):
    calls = []
    res = search_strength(_step(at, calls), 0.0, 1.0, target=0.9, limits=Limits(), rounds=4, points=4, tol=0.01)
    assert res.chosen is not None and at <= res.chosen <= at + 0.01
    assert len(calls) == res.rounds <= 4
    assert sum(len(c) for c in calls) == len(res.points)  # no strength evaluated twice
    assert set(res.table().columns) >= {"round", "strength", "success", "collateral", "validity"}


def test_nothing_is_chosen_when_the_target_is_never_reached_or_limits_break():
    res = search_strength(_step(2.0, []), 0.0, 1.0, target=0.9, limits=Limits())
    assert res.chosen is None and "never reached" in res.reason and res.rounds == 1

    def harsh(strengths):
        return [(float(s >= 0.3), s, 1.0 - s) for s in strengths]  # collateral grows with strength

    res = search_strength(harsh, 0.0, 1.0, target=0.9, limits=Limits(max_collateral=0.1))
    assert res.chosen is None and "limits" in res.reason
    res = search_strength(harsh, 0.0, 1.0, target=0.9, limits=Limits(max_collateral=0.5, min_validity=0.5), tol=0.01)
    assert 0.3 <= res.chosen <= 0.31


def test_validity_that_recovers_with_strength_is_found_above_the_weakest_reaching_one():
    calls = []

    def sustains(strengths):  # reaches drums at 0.3, but breaks the grammar until 0.6 (too weak to start notes)
        calls.append(list(strengths))
        return [(float(s >= 0.3), 0.0, 0.5 if 0.3 <= s < 0.6 else 1.0) for s in strengths]

    res = search_strength(sustains, 0.0, 1.0, target=0.9, limits=Limits(), rounds=3, points=4, tol=0.01)
    assert res.chosen is not None and 0.6 <= res.chosen <= 0.8 and "found above" in res.reason
    assert all(p.strength < res.chosen for p in res.points if p.success >= 0.9 and p.within_limits is False)
    assert len(calls) == res.rounds
    again = search_strength(sustains, 0.0, 1.0, target=0.9, limits=Limits(), rounds=3, points=4, above=False)
    assert again.chosen is None and "breaks the limits" in again.reason


def test_the_judge_behind_a_broken_limit_is_named():
    def moving(strengths):  # collateral from the dynamics judge, which grows with strength
        return [(float(s >= 0.5), s / 2, 1.0, "organism:dynamics") for s in strengths]

    res = search_strength(moving, 0.0, 1.0, target=0.9, limits=Limits(max_collateral=0.1))
    assert res.chosen is None and "from organism:dynamics" in res.reason
    assert {p.most_moved for p in res.points} == {"organism:dynamics"}
    assert "most_moved" in res.table().columns


def test_success_already_at_the_bottom_chooses_it():
    res = search_strength(_step(-1.0, []), 0.0, 1.0, target=0.9, limits=Limits())
    assert res.chosen == 0.0 and res.rounds == 1


def test_bad_ranges_are_refused():
    with pytest.raises(SteererConfigError):
        search_strength(_step(0.5, []), 1.0, 1.0, target=0.9, limits=Limits())


def test_calibrate_on_the_organism_sets_the_default_strength(organism_drums, tmp_path):
    from musicinterp.steering import ITIConfig, ITISteerer, Steerer
    from musicinterp.steering.strength_finder import calibration_task

    model, store = organism_drums
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=8))
    task = calibration_task(model, "drums", n=4, prompt_frames=32, new_frames=40)
    res = iti.calibrate(model, task, "drums", target=0.75, limits=Limits(max_collateral=1.0, min_validity=0.0),
                        high=8.0, rounds=2, points=3)
    assert res.rounds <= 2 and len(res.points) >= 4
    assert res.chosen is not None and 0 < res.chosen <= 8.0
    ok = [p for p in res.points if p.success >= 0.75]
    assert min(p.strength for p in ok) == res.chosen
    others = {j.name for j in model.world.default_judges()} - {"organism:drums"}
    assert all(p.most_moved in others for p in res.points if p.collateral > 0)
    assert iti.strength == res.chosen
    back = Steerer.load(iti.save(tmp_path / "iti"))
    assert back.strength == res.chosen and back.meta["calibration"]["task"] == task.name

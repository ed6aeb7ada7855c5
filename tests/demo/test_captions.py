"""Captions: axes, how to read, what the run found, with the run's numbers."""

from musicinterp.demo.captions import figure_captions, interval_text

from .test_narrative import FACTS, ROW


def test_every_result_file_has_a_title_and_a_caption_with_numbers():
    caps = figure_captions(FACTS)
    assert "figures/probes/probe_heatmaps.json" in caps and "figures/sae/feature_17_page.json" in caps
    assert all(c["title"] and c["caption"] for c in caps.values())
    assert "L2H5 (0.97)" in caps["figures/probes/probe_heatmaps.json"]["caption"]
    assert "layer 0 on drums (+1.50)" in caps["figures/ablation/skip_layer_per_codebook.json"]["caption"]
    assert "random direction 12% (beaten)" in caps["figures/comparison/success_vs_fidelity_continuation.json"][
        "caption"]
    assert "2 pass, 10 fail, 5 undecided" in caps["figures/comparison/matrix.json"]["caption"]
    heard = caps["tables/comparison/best_settings.json"]["caption"]
    assert "in 1 of 2 best settings" in heard and "ranges 0.031-0.42" in heard
    no_clap = {**FACTS, "comparison": {**FACTS["comparison"], "audio_check": {}, "clap_agreement": (0, 0)}}
    assert "CLAP" not in figure_captions(no_clap)["tables/comparison/best_settings.json"]["caption"]
    assert caps["figures/sae/feature_17_page.json"]["section"] == "sae_features"
    assert "audio/listen/continuation_3" in caps and interval_text(ROW) == "[0.72, 0.99]"


def test_the_monitor_caption_says_whether_it_stopped_and_why_not():
    caps = figure_captions(FACTS)["figures/monitors/monitor_smitin.json"]["caption"]
    assert "crosses tau at step 40" in caps and "stopped in 3" in caps and "calibrated" in caps
    never = {**FACTS, "monitors": {"smitin": {**FACTS["monitors"]["smitin"], "stopped": 0, "calibrated": False,
                                              "note": "nothing to separate", "why": "it stayed below tau"}}}
    caps = figure_captions(never)["figures/monitors/monitor_smitin.json"]["caption"]
    assert "never crossed tau" in caps and "it stayed below tau" in caps and "nothing to separate" in caps

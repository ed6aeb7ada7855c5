"""The demo's ablation section on the organism (the SAE section trains for minutes: ``musicinterp demo``)."""

import numpy as np

from musicinterp.collect import collect
from musicinterp.organism import balanced_set
from musicinterp.probes import fit_probe_bank


def test_ablation_section_patches_every_head_and_skips_every_layer(organism, tmp_path):
    from musicinterp.demo.sections import ablation_section

    store = collect(organism, balanced_set("drums", 16, seed=3, n_frames=32), ["attn_z"], out=tmp_path / "s",
                    progress=False)
    bank = fit_probe_bank(store, "drums", "attn_z")
    figures, facts = ablation_section(organism, "drums", bank, quick=True)
    (layer, head), score = facts["patch_top"]
    assert 0 <= layer < organism.n_layers and 0 <= head < organism.n_heads and facts["n"] == 4
    assert facts["skip_worst"][1] in ("lead", "drums", "brightness", "bass") and facts["skip_worst"][2] > 0
    assert list(figures) == ["ablation/patch_drums_layer_head", "ablation/read_vs_used_drums",
                             "ablation/skip_layer_per_codebook"]
    heat = np.asarray(figures["ablation/patch_drums_layer_head"].data[0].z, dtype=float)
    assert heat.shape == (organism.n_layers, organism.n_heads) and np.isfinite(heat).all()

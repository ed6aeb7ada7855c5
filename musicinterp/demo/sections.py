"""The demo's SAE and ablation sections: figures and audio for the report, through the public API.

* SAE: a TopK SAE on the organism's last residual layer (collected with frames),
  its evaluation, the feature map, the page of the most selective feature for
  the target concept and the audio of its top clips; the steerer built on that
  feature joins the comparison.
* Ablation and patching: the target word patched into its opposite over layer x
  head (concept logit difference), read-vs-used against the probe bank, and
  skip-layer ablation broken down per codebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models.musicgen import MusicGen
from ..sae.errors import SAEConfigError
from ..views import ablation as ablation_views
from ..views import sae as sae_views


def demo_store(model: MusicGen, concept_set: Any, sites: list[str], out: Path, **kwargs: Any) -> Any:
    """``mi.collect`` into the demo's own folder: an earlier run's store is reused when it was collected with
    the same settings, and collected again when they changed (another model, another concept set)."""
    import musicinterp as mi

    from ..store.errors import StoreModelMismatchError, StoreRequestMismatchError

    try:
        return mi.collect(model, concept_set, sites, out=out, **kwargs)
    except (StoreRequestMismatchError, StoreModelMismatchError) as err:
        print(f"      {out.name}: an earlier run's store no longer matches ({type(err).__name__}); collecting again")
        return mi.collect(model, concept_set, sites, out=out, overwrite=True, **kwargs)


def sae_section(model: MusicGen, target: str, out: Path, *, quick: bool) -> tuple[dict[str, Any], Any, dict, dict]:
    """Train, evaluate and explore an SAE; return (figures, SAE steerer for ``target``, audio by name, facts)."""
    import musicinterp as mi

    n_clips, steps = (64, 400) if quick else (128, 1200)
    print(f"      SAE: collecting frames of {n_clips} clips at the last residual layer, training {steps} steps")
    store = demo_store(model, mi.organism.balanced_set(target, n_clips, seed=8), ["resid"],
                       out / f"store_{target}_frames", batch_size=32)
    layer = model.n_layers - 1
    settings = dict(layer=layer, arch="topk", dict_size=256, k=16, steps=steps, batch_size=512, out=out / "sae", seed=0)
    try:
        sae = mi.sae.train(store, "resid", **settings)
    except SAEConfigError as err:  # an earlier run's SAE, of other settings or another store: train it again
        print(f"      sae: {err}; training again")
        sae = mi.sae.train(store, "resid", resume=False, **settings)
    evaluation = mi.sae.evaluate(sae, store, model, n_clips=16)
    analysis = mi.sae.analyze(sae, store, probes=False, progress=False)
    best = analysis.best(target, 1)[0]
    print(f"      SAE: FVE {evaluation.fve:.3f}, L0 {evaluation.l0:.1f}, CE score {evaluation.ce_loss_score:.3f}; "
          f"feature {best} is the most selective for {target!r} (AUC {float(analysis.auc[target][best]):.3f})")
    figures = {
        "sae/evaluation_per_codebook": sae_views.evaluation_bars(evaluation.per_codebook),
        "sae/feature_density": sae_views.density_histogram(evaluation.density),
        "sae/feature_map": sae_views.decoder_map(analysis),
        f"sae/feature_{best}_page": sae_views.feature_page(analysis, best),
    }
    audio = {f"feature_{best}_top_{i}_{clip}": wave for i, (clip, wave) in
             enumerate(analysis.top_clip_audio(best, model, n=3))}
    steerer = mi.SAESteerer.fit(store, target, mi.SAESteererConfig(sae=sae, features=[best]), analysis=analysis)
    facts = {"fve": float(evaluation.fve), "l0": float(evaluation.l0), "ce": float(evaluation.ce_loss_score),
             "feature": int(best), "auc": float(analysis.auc[target][best]), "dict_size": 256,
             "dead": int((evaluation.density == 0).sum())}
    return figures, steerer, audio, facts


def ablation_section(model: MusicGen, target: str, bank: Any, *, quick: bool) -> tuple[dict[str, Any], dict]:
    """Patching the target word into its opposite over layer x head, and skip-layer ablation per codebook;
    the figures and the facts the captions quote (the head that restores most, the costliest skip)."""
    import musicinterp as mi

    n = 4 if quick else 8
    pair = model.world.prompt_pair(model, target, n=n, n_frames=100 if quick else 200)
    metric = model.world.concept_metric(target)
    print(f"      patching {pair.description or 'the prompt pair'} over layer x head ({n} clips)")
    patched = mi.patch(model, pair.clean, pair.corrupt, site="attn_z", over=("layer", "head"), metric=metric,
                       progress=False)
    skipped = mi.ablate(model, pair.clean, mode="skip", over=("layer",), metric="ce", progress=False)
    cost = skipped.per_codebook - skipped.clean_per_codebook  # (layers, codebooks)
    layer, cb = divmod(int(cost.argmax()), cost.shape[1])
    norm = patched.normalized  # (layers, heads): share of the clean - corrupt difference restored
    top = divmod(int(norm.abs().argmax()), norm.shape[1])  # the head that moves the metric most, either way
    facts = {"patch_top": (top, float(norm[top])), "n": n,
             "skip_worst": (skipped.labels["layer"][layer], skipped.codebooks[cb], float(cost.max()))}
    return {
        f"ablation/patch_{target}_layer_head": ablation_views.sweep_heatmap(patched),
        f"ablation/read_vs_used_{target}": ablation_views.read_vs_used(patched, bank),
        "ablation/skip_layer_per_codebook": ablation_views.codebook_breakdown(skipped),
    }, facts

import numpy as np
import soundfile as sf
import torch

from musicinterp import StepWindow, add, generate
from musicinterp.models.musicgen import DISCARDED_PREFILL_PASSES


def test_decoder_runs_one_discarded_prefill(tiny, tiny_ids):
    """Pins transformers' behaviour: the decoder runs max_new_tokens + 1 times."""
    calls = []
    hook = tiny.hf.decoder.model.decoder.layers[0].register_forward_hook(lambda *a: calls.append(1))
    try:
        tiny.hf.generate(input_ids=tiny_ids, max_new_tokens=6, do_sample=False)
    finally:
        hook.remove()
    assert DISCARDED_PREFILL_PASSES == 1
    assert len(calls) == 6 + DISCARDED_PREFILL_PASSES


def test_greedy_codes_match_teacher_forcing_and_step_logits(tiny, tiny_ids):
    res = generate(tiny, input_ids=tiny_ids, n_frames=10, do_sample=False, guidance_scale=1.0,
                   record_logits=True)
    assert res.codes.shape == (2, 4, 10) and res.steps == 13
    assert res.audio.shape == (2, 10 * 640)
    tf = tiny.forward_logits(res.codes, tiny.conditioning(input_ids=tiny_ids))
    assert torch.equal(tiny.logits_to_frames(tf, 10).argmax(-1), res.codes)
    # step s is decoder position s: step 0 is the first generated frame, not the discarded prefill
    for step in (0, 5, 9):
        assert torch.allclose(res.logits[step], tf[:, :, step], atol=1e-4)


def test_code_prompt_continuation(tiny, tiny_ids):
    full = generate(tiny, input_ids=tiny_ids, n_frames=12, do_sample=False, guidance_scale=1.0)
    cont = generate(tiny, input_ids=tiny_ids, prompt_codes=full.codes[..., :5], n_frames=7,
                    do_sample=False, guidance_scale=1.0)
    assert cont.prompt_frames == 5 and cont.new_codes.shape == (2, 4, 7)
    assert torch.equal(cont.codes, full.codes)


def test_audio_prompt_is_loaded_resampled_and_encoded(tiny, tmp_path):
    t = np.arange(int(0.3 * 44100)) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1) * 0.3
    sf.write(tmp_path / "prompt.wav", stereo, 44100)
    res = generate(tiny, prompt_audio=tmp_path / "prompt.wav", n_frames=4, seed=0)
    assert res.prompt_frames == 15  # 0.3 s at 50 frames/s
    assert res.codes.shape == (1, 4, 19)


def test_step_window_edit_leaves_earlier_steps(tiny, tiny_ids):
    edit = add("attn_z", 1, torch.full((16,), 4.0), heads=[1], steps=StepWindow(4, 8))
    kw = dict(input_ids=tiny_ids, n_frames=10, seed=3, guidance_scale=3.0, record_logits=True)
    base, steered = generate(tiny, **kw), generate(tiny, interventions=[edit], **kw)
    for step in range(4):
        assert torch.equal(steered.logits[step], base.logits[step])
    assert (steered.logits[4] - base.logits[4]).abs().max() > 1e-3


def test_cond_rows_edit_leaves_unconditional_logits(tiny, tiny_ids):
    edit = add("resid", 0, 2.0 * torch.randn(64, generator=torch.Generator().manual_seed(0)), rows="cond",
               steps=StepWindow(2, 3))
    kw = dict(input_ids=tiny_ids, n_frames=6, seed=5, guidance_scale=3.0, record_logits=True)
    base, steered = generate(tiny, **kw), generate(tiny, interventions=[edit], **kw)
    assert base.logits.shape[1] == 4  # 2 prompts x (cond, uncond)
    assert torch.equal(steered.logits[2, 2:], base.logits[2, 2:])
    assert (steered.logits[2, :2] - base.logits[2, :2]).abs().max() > 1e-3


def test_every_and_interval_windows(tiny):
    seen = []

    def record(x, ctx):
        seen.append(ctx.step)

    from musicinterp import apply_fn

    generate(tiny, n_frames=12, seed=0, interventions=[apply_fn("resid", 0, record, steps=StepWindow(1, 12, 5))])
    assert seen == [1, 6, 11]


def test_unconditional_generation_batches(tiny):
    res = generate(tiny, batch=3, n_frames=5, seed=0, decode_audio=False)
    assert res.codes.shape == (3, 4, 5) and res.audio is None
    assert int(res.codes.max()) < 2048

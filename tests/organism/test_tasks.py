import torch

from musicinterp.organism import detect
from musicinterp.organism.tasks import organism_tasks


def test_adding_continues_clips_without_the_target_and_asks_for_its_opposite():
    cont, text, opposite = organism_tasks("drums", n=6, prompt_frames=40, new_frames=30, seed=2)
    assert (cont.name, text.name, opposite.name) == ("continuation", "text", "text-opposite")
    assert cont.prompt_frames == 40 and cont.kwargs["prompt_codes"].shape == (6, 4, 40)
    assert detect(cont.kwargs["prompt_codes"], "drums")[1].tolist() == [0] * 6
    assert opposite.kwargs["text"] == ["no drums"] * 6
    assert all("drums" not in t for t in text.kwargs["text"])  # neutral prompts name only other concepts
    assert {t.kwargs["n_frames"] for t in (cont, text, opposite)} == {30}


def test_removing_starts_from_clips_with_the_target():
    cont, _, opposite = organism_tasks("bass", n=4, prompt_frames=40, add=False)
    assert detect(cont.kwargs["prompt_codes"], "bass")[1].tolist() == [1] * 4
    assert opposite.kwargs["text"] == ["bass"] * 4
    again = organism_tasks("bass", n=4, prompt_frames=40, add=False)[0]
    assert torch.equal(again.kwargs["prompt_codes"], cont.kwargs["prompt_codes"])  # seeded

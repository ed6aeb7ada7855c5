"""The organism's token layout: hand-computed ids, and the ranges of each codebook never overlap."""

from musicinterp.organism import vocab as V


def test_hand_computed_ids():
    assert (V.lead_onset(0, 0), V.lead_onset(35, 2), V.lead_sustain(35)) == (1, 108, 163)
    assert (V.drum_hit(0, 0, 0), V.drum_hit(3, 3, 2), V.DRUM_MAX) == (1, 48, 49)
    assert (V.bright_token(15, 7), V.bright_token(2, 30)) == (127, 23)  # the phase is capped at 7
    assert (V.bass_onset(23, 1), V.bass_sustain(23), V.HOP) == (48, 87, 640)


def test_codebook_ranges_are_disjoint_and_fit_the_codebook():
    lead_on = {V.lead_onset(p, v) for p in range(V.LEAD_PITCHES) for v in range(V.LEAD_VELOCITIES)}
    lead_sus = {V.lead_sustain(p) for p in range(V.LEAD_PITCHES)}
    assert lead_on == set(range(1, V.LEAD_ONSET_MAX)) and not lead_on & lead_sus and max(lead_sus) < V.CODEBOOK_SIZE
    bass_on = {V.bass_onset(p, v) for p in range(V.BASS_PITCHES) for v in range(V.BASS_VELOCITIES)}
    bass_sus = {V.bass_sustain(p) for p in range(V.BASS_PITCHES)}
    assert bass_on == set(range(1, V.BASS_ONSET_MAX)) and not bass_on & bass_sus and max(bass_sus) < V.CODEBOOK_SIZE
    bright = [V.bright_token(level, phase) for level in range(V.BRIGHT_LEVELS) for phase in range(V.BRIGHT_PHASES)]
    assert sorted(bright) == list(range(V.BRIGHT_MAX))


def test_drum_parts_inverts_drum_hit():
    seen = set()
    for inst in range(len(V.DRUM_INSTRUMENTS)):
        for vel in range(V.DRUM_VELOCITIES):
            for var in range(V.DRUM_VARIANTS):
                token = V.drum_hit(inst, vel, var)
                assert V.drum_parts(token) == (inst, vel, var)
                seen.add(token)
    assert seen == set(range(1, V.DRUM_MAX))

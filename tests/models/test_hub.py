from musicinterp.models.hub import hub_cache


def test_hub_cache_fallbacks(monkeypatch, tmp_path):
    for name in ("HF_HUB_CACHE", "HF_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert hub_cache() == (tmp_path / "huggingface" / "hub", "XDG_CACHE_HOME")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "c"))
    assert hub_cache() == (tmp_path / "c", "HF_HUB_CACHE")

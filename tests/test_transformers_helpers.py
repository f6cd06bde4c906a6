"""graders/_transformers: locating a model, devices and dtypes."""

from __future__ import annotations

import pytest

from rft_core.infra.torch_helpers import locate_model, pick_device, torch_dtype


def test_a_saved_model_directory_resolves_to_its_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "rm").mkdir()
    (tmp_path / "rm" / "config.json").write_text("{}")
    monkeypatch.chdir(tmp_path)  # without a spec folder (no validation info), relative paths start from the cwd
    assert locate_model("rm", "model", "reward_model", None) == str((tmp_path / "rm").resolve())


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        # a directory that holds no config.json is not a saved model
        ("empty-dir", "has no config.json, so it is not a saved transformers model"),
        # an absolute path that does not exist is never looked up on the Hub
        ("absolute-missing", "no such directory"),
    ],
    ids=["not-a-model", "absolute-missing"],
)
def test_paths_that_are_not_models_say_how_to_fix_them(tmp_path, layout, message):
    target = tmp_path / "thing"
    if layout == "empty-dir":
        target.mkdir()
    with pytest.raises(ValueError, match=message):
        locate_model(str(target), "model", "reward_model", None)


def test_devices_and_dtypes():
    torch = pytest.importorskip("torch")
    assert pick_device(torch, "cpu") == "cpu"  # an explicit device is kept
    expected = "cuda" if torch.cuda.is_available() else None
    assert pick_device(torch, "auto") in ({expected} if expected else {"mps", "cpu"})
    assert torch_dtype(torch, "auto", "cpu") is torch.float32  # cpu computes in float32
    assert torch_dtype(torch, "auto", "cuda") == "auto"  # an accelerator keeps the checkpoint's dtype
    assert torch_dtype(torch, "bfloat16", "cpu") is torch.bfloat16

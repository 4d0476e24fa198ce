"""``hubconf.py``: the official repository's torch.hub example, run on this checkout (``source="local"``)."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms as transforms
from PIL import Image

from qualiclip import WeightsUnavailableError
from qualiclip.cli import main
from qualiclip.model_registry import MODELS
from qualiclip.quality_module import QualityModule
from qualiclip.weight_files import QUALICLIP_ENV

ROOT = Path(__file__).resolve().parent.parent
#: The official README's preprocessing: ToTensor, then CLIP's mean and std.
PREPROCESS = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.48145466, 0.4578275, 0.40821073], std=[0.26862954, 0.26130258, 0.27577711]),
])
ENTRIES = {"QualiCLIP": "qualiclip", "qualiclip": "qualiclip", "clip_iqa": "clip-iqa",
           "clip_qualiclip_prompts": "clip-qualiclip-prompts",
           "qualiclip_offline": "qualiclip-offline", "qualiclip_plus": "qualiclip+",
           "qualiclip_plus_clive": "qualiclip+-clive", "qualiclip_plus_flive": "qualiclip+-flive",
           "qualiclip_plus_spaq": "qualiclip+-spaq"}


@pytest.fixture(scope="module")
def photo_file(photo: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hub") / "photo.png"
    Image.fromarray(photo).save(path)
    return path


@pytest.fixture(scope="module")
def cli_score(tiny_checkpoint: Path, photo_file: Path) -> float:
    """The command line's score of the photo with the tiny checkpoint."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["score", str(photo_file), "--weights", str(tiny_checkpoint), "--device", "cpu", "--json"]) == 0
    [record] = json.loads(out.getvalue())
    return record["score"]


def _official_example(photo_file: Path, **load) -> torch.Tensor:
    """The official README's example, with this repository's directory in place of its name."""
    model = torch.hub.load(repo_or_dir=str(ROOT), source="local", **load)
    model.eval().to("cpu")
    img = PREPROCESS(Image.open(photo_file).convert("RGB")).unsqueeze(0).to("cpu")
    with torch.no_grad():
        return model(img)


def test_the_official_example_loads_the_cached_official_weights(photo_file: Path, tiny_checkpoint: Path,
                                                                 cli_score: float, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path))
    monkeypatch.delenv(QUALICLIP_ENV, raising=False)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "qualiclip.pth").write_bytes(tiny_checkpoint.read_bytes())  # the usual cache
    score = _official_example(photo_file, model="QualiCLIP")
    assert score.shape == (1,)
    assert score.item() == pytest.approx(cli_score, abs=1e-6)


def test_weights_path_entry_equals_the_command_line(photo_file: Path, tiny_checkpoint: Path, cli_score: float) -> None:
    model = torch.hub.load(str(ROOT), "qualiclip", source="local", weights=str(tiny_checkpoint))
    assert isinstance(model, QualityModule) and next(model.parameters()).device.type == "cpu"
    score = _official_example(photo_file, model="qualiclip", weights=str(tiny_checkpoint))
    assert score.item() == pytest.approx(cli_score, abs=1e-6)
    batch = torch.cat([PREPROCESS(Image.open(photo_file).convert("RGB"))[None]] * 2)
    with torch.no_grad():
        assert model(batch).shape == (2,)


def test_every_named_model_has_an_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, each download entry fails naming its own model's URL; the bundled model loads."""
    from qualiclip.hub import hub_entries

    assert set(hub_entries()) == set(ENTRIES) and set(ENTRIES.values()) == set(MODELS)
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path))
    monkeypatch.delenv(QUALICLIP_ENV, raising=False)
    monkeypatch.setattr("qualiclip.weight_files._probe", _refuse)
    for entry, model in ENTRIES.items():
        spec = MODELS[model]
        if spec.remote is None:
            assert isinstance(torch.hub.load(str(ROOT), entry, source="local"), QualityModule)
            continue
        with pytest.raises(WeightsUnavailableError) as caught:
            torch.hub.load(str(ROOT), entry, source="local")
        urls = [source.url for source in (spec.remote, spec.prompt_learner) if source]
        assert all(url in str(caught.value) for url in urls), entry


def _refuse(url: str, timeout: float) -> None:
    raise OSError("network is unreachable")

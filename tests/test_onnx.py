"""The ONNX export and the ONNX Runtime backend (issue 29): the exported file, run by onnxruntime alone,
scores as torch does; the backend scores every kind of input as the torch backend; the metadata says
what the file is; bad input and bad options get clear errors; bf16 is opt-in."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from PIL import Image

from qualiclip import ImageLoadError, QualityScorer, load_model
from qualiclip.cli import main
from qualiclip.constants import ONNX_OPSET
from qualiclip.explain import explain
from qualiclip.model_registry import BUNDLED_LICENCE, MODELS, OFFLINE_MODEL
from qualiclip.onnx.backend import OnnxRuntimeScorer
from qualiclip.onnx.export import export_onnx, mean_token_pool
from qualiclip.studio import EXAMPLES_DIR

#: Scores, pair probabilities and cosines of the two backends (and of the file alone) agree within this.
TOLERANCE = 1e-5
#: (height, width): the smallest input, square, wide, tall, odd strips.
SIZES = [(32, 32), (64, 96), (97, 33), (150, 200), (40, 250), (223, 161)]
#: The size cap of the backend tests: inputs larger than it are scored downscaled, by both backends.
MAX_SIDE = 160

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # many small forwards: extra threads only wait here


@pytest.fixture(scope="module", autouse=True)
def torch_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private torch cache, so the backend's cached exports never land in the user's."""
    home = tmp_path_factory.mktemp("torch-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCH_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def torch_tiny(tiny_checkpoint: Path) -> QualityScorer:
    return load_model(weights=tiny_checkpoint, device="cpu", max_side=MAX_SIDE)


@pytest.fixture(scope="module")
def onnx_tiny(tiny_checkpoint: Path) -> OnnxRuntimeScorer:
    return load_model(weights=tiny_checkpoint, backend="onnxruntime", max_side=MAX_SIDE)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _session(path: Path) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _file_matches_torch(path: Path, model: QualityScorer) -> None:
    """The file, run by onnxruntime alone on numpy arrays, against the torch scorer at every size."""
    session = _session(path)
    rng = np.random.default_rng(0)
    for height, width in SIZES:
        images = rng.random((2, 3, height, width), dtype=np.float32)
        score, pairs, similarities = session.run(["score", "pair_probabilities", "similarities"], {"image": images})
        expected = model.score_batch(torch.from_numpy(images))
        assert score.shape == (2,) and pairs.shape == (2, 7) and similarities.shape == (2, 14)
        np.testing.assert_allclose(score, expected.scores.numpy(), atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(pairs, expected.pair_probabilities.numpy(), atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(similarities, expected.similarities.numpy(), atol=TOLERANCE, rtol=0)


def test_exported_file_alone_scores_as_torch_at_every_size(tiny_checkpoint: Path, torch_tiny: QualityScorer,
                                                           tmp_path: Path) -> None:
    path = export_onnx(torch_tiny, tmp_path / "tiny.onnx", weights_hash=_sha256(tiny_checkpoint), licence="test")
    _file_matches_torch(path, torch_tiny)


@pytest.mark.slow  # the bundled model's export and 12 forward passes per backend: about 4 s here
def test_bundled_model_exported_by_the_command_scores_as_torch(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "offline.onnx"
    assert main(["export-onnx", "--model", OFFLINE_MODEL, "--output", str(output)]) == 0
    assert f"wrote {output}" in capsys.readouterr().err
    _file_matches_torch(output, load_model(OFFLINE_MODEL, device="cpu"))
    metadata = _session(output).get_modelmeta().custom_metadata_map
    assert metadata["qualiclip.weights_sha256"] == _sha256(MODELS[OFFLINE_MODEL].bundled)
    assert metadata["qualiclip.weights_licence"] == BUNDLED_LICENCE


def test_score_output_is_the_official_formula_of_the_similarity_output(onnx_tiny: OnnxRuntimeScorer) -> None:
    """Recomputed here with numpy from the file's own cosines: logits 100 x cos, softmax per pair, mean."""
    images = np.random.default_rng(1).random((3, 3, 64, 80), dtype=np.float32)
    score, pairs, similarities = _session(onnx_tiny.onnx_path).run(None, {"image": images})[:3]
    logits = 100.0 * similarities.astype(np.float64).reshape(3, 7, 2)
    positive = 1.0 / (1.0 + np.exp(logits[..., 1] - logits[..., 0]))
    np.testing.assert_allclose(pairs, positive, atol=1e-6, rtol=0)
    np.testing.assert_allclose(score, positive.mean(axis=1), atol=1e-6, rtol=0)


def test_metadata_states_hash_formula_input_and_licence(onnx_tiny: OnnxRuntimeScorer, tiny_checkpoint: Path) -> None:
    metadata = _session(onnx_tiny.onnx_path).get_modelmeta().custom_metadata_map
    assert metadata["qualiclip.weights_sha256"] == _sha256(tiny_checkpoint)
    assert "100 * cos" in metadata["qualiclip.formula"] and "softmax" in metadata["qualiclip.formula"]
    assert "float32 [N, 3, H, W]" in metadata["qualiclip.input"] and "[0, 1]" in metadata["qualiclip.input"]
    assert metadata["qualiclip.weights_licence"].startswith("not stated: weights from a file given by the user")
    assert metadata["qualiclip.opset"] == str(ONNX_OPSET)
    proto = onnx.load(str(onnx_tiny.onnx_path), load_external_data=False)
    assert [entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")] == [ONNX_OPSET]
    assert [i.name for i in proto.graph.input] == ["image"]
    assert [o.name for o in proto.graph.output] == ["score", "pair_probabilities", "similarities", "trunk"]


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_backend_scores_every_kind_of_input_as_torch(onnx_tiny: OnnxRuntimeScorer, torch_tiny: QualityScorer) -> None:
    rng = np.random.default_rng(2)
    sixteen = (rng.random((90, 70)) * 65535).astype(np.uint16)
    inputs = [
        rng.random((32, 32, 3), dtype=np.float32),                     # the smallest input
        (rng.random((33, 517, 3)) * 255).astype(np.uint8),             # a strip over the cap
        (rng.random((MAX_SIDE, MAX_SIDE, 3)) * 255).astype(np.uint8),  # exactly the cap
        (rng.random((600, 450, 3)) * 255).astype(np.uint8),            # downscaled to the cap
        (rng.random((80, 120)) * 255).astype(np.uint8),                # grey
        (rng.random((70, 90, 4)) * 255).astype(np.uint8),              # RGBA, composited over white
        _png(sixteen),                                                 # a 16-bit greyscale PNG
        _png((rng.random((50, 60, 4)) * 255).astype(np.uint8)),        # an RGBA PNG
        *sorted(EXAMPLES_DIR.glob("*.jpg"))[:2],                       # photos, downscaled to the cap
    ]
    assert Image.open(io.BytesIO(inputs[6])).mode.startswith("I;16")
    ours, theirs = onnx_tiny.score(inputs, batch_size=4), torch_tiny.score(inputs, batch_size=4)
    for mine, reference in zip(ours, theirs):
        assert mine.score == pytest.approx(reference.score, abs=TOLERANCE)
        np.testing.assert_allclose(mine.pair_probabilities, reference.pair_probabilities, atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(mine.similarities, reference.similarities, atol=TOLERANCE, rtol=0)
    assert len({round(result.score, 6) for result in ours}) == len(inputs)  # the inputs are told apart


def test_heatmaps_start_from_the_onnx_trunk_and_match_torch(onnx_tiny: OnnxRuntimeScorer,
                                                            torch_tiny: QualityScorer) -> None:
    photo = sorted(EXAMPLES_DIR.glob("*.jpg"))[0]
    image = onnx_tiny.prepare(photo).pixels[None]
    torch.testing.assert_close(onnx_tiny.trunk(image), torch_tiny.trunk(image).contiguous(), atol=1e-4, rtol=1e-4)
    for method in ("gradcam", "attention"):
        mine, reference = explain(onnx_tiny, photo, method=method), explain(torch_tiny, photo, method=method)
        for side in ("positive", "negative"):
            np.testing.assert_allclose(getattr(mine, side).values, getattr(reference, side).values, atol=1e-4, rtol=0)


def test_bad_inputs_and_options_get_clear_errors(onnx_tiny: OnnxRuntimeScorer, tiny_checkpoint: Path) -> None:
    with pytest.raises(ImageLoadError, match=r"\(B, 3, H, W\).*\(2, 1, 64, 64\)"):
        onnx_tiny.score_batch(torch.rand(2, 1, 64, 64))
    with pytest.raises(ImageLoadError, match="at least 32 px"):
        onnx_tiny.score_batch(torch.rand(1, 3, 16, 64))
    with pytest.raises(ImageLoadError, match="not an image file"):
        onnx_tiny.score([b"not an image"])
    [kept, scored] = onnx_tiny.score([b"not an image", np.zeros((40, 40), np.uint8)], errors="keep")
    assert isinstance(kept, ImageLoadError) and 0.0 <= scored.score <= 1.0
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument):  # the file alone: wrong rank
        _session(onnx_tiny.onnx_path).run(None, {"image": np.zeros((3, 64, 64), np.float32)})
    with pytest.raises(ValueError, match="runs on the CPU"):
        load_model(weights=tiny_checkpoint, backend="onnxruntime", device="cuda")
    with pytest.raises(ValueError, match="needs backend='torch'"):
        load_model(weights=tiny_checkpoint, backend="onnxruntime", precision="bf16")
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        load_model(weights=tiny_checkpoint, backend="tensorrt")
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        load_model(weights=tiny_checkpoint, precision="fp8")


def test_export_is_cached_per_weights_and_prompts(onnx_tiny: OnnxRuntimeScorer, tiny_checkpoint: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr("qualiclip.onnx.backend.export_onnx", no_export)
    again = load_model(weights=tiny_checkpoint, backend="onnxruntime")
    assert again.onnx_path == onnx_tiny.onnx_path
    with pytest.raises(AssertionError, match="exported again"):  # other prompts: another graph
        load_model(weights=tiny_checkpoint, backend="onnxruntime", prompt_pairs=[("Good.", "Bad.")])


def test_command_refuses_an_output_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export-onnx", "--model", OFFLINE_MODEL, "--output", str(tmp_path)]) == 2
    assert "error: cannot write" in capsys.readouterr().err


def test_bf16_is_opt_in_and_close(tiny_checkpoint: Path, torch_tiny: QualityScorer) -> None:
    assert torch_tiny.precision == "fp32" and torch_tiny.trunk(torch.rand(1, 3, 64, 64)).dtype == torch.float32
    fast = load_model(weights=tiny_checkpoint, device="cpu", precision="bf16")
    images = torch.rand(2, 3, 96, 128, generator=torch.Generator().manual_seed(3))
    assert fast.trunk(images).dtype == torch.bfloat16 and "bf16" in fast.description
    reduced, full = fast.score_batch(images), torch_tiny.score_batch(images)
    assert reduced.scores.dtype == torch.float32  # the formula itself stays float32
    torch.testing.assert_close(reduced.scores, full.scores, atol=0.02, rtol=0)
    assert not torch.equal(reduced.similarities, full.similarities)  # it did run in bf16


def test_score_command_takes_the_backend(onnx_tiny: OnnxRuntimeScorer, tiny_checkpoint: Path, torch_tiny: QualityScorer,
                                         capsys: pytest.CaptureFixture) -> None:
    photo = sorted(EXAMPLES_DIR.glob("*.jpg"))[0]
    assert main(["score", str(photo), "--weights", str(tiny_checkpoint), "--backend", "onnxruntime",
                 "--max-side", str(MAX_SIDE), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "on ONNX Runtime" in err
    [record] = json.loads(out)
    assert record["score"] == pytest.approx(torch_tiny.score([photo])[0].score, abs=TOLERANCE)


def test_mean_token_pool_is_the_attention_pool(torch_tiny: QualityScorer) -> None:
    """The exported graph's pool (keys and values never projected per location) against the pool itself."""
    pool = torch_tiny.clip.visual.attnpool
    generator = torch.Generator().manual_seed(4)
    for shape in [(2, pool.k_proj.in_features, 3, 5), (1, pool.k_proj.in_features, 1, 1)]:
        trunk = torch.randn(*shape, generator=generator)
        with torch.no_grad():
            torch.testing.assert_close(mean_token_pool(pool, trunk), pool(trunk), atol=2e-6, rtol=1e-5)

"""Official checkpoint format: round trip, strict refusal, prompt features, weight resolution."""
from __future__ import annotations

import http.server
import logging
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from qualiclip import CheckpointError, QualityScorer, WeightsUnavailableError, load_model
from qualiclip.architecture import build_clip, tokenizer
from qualiclip.constants import TINY_ARCH
from qualiclip.checkpoint import CLIP_PREFIX, PROMPTS_KEY, read_checkpoint
from qualiclip.model_registry import MODELS
from qualiclip.weight_files import QUALICLIP_ENV, RemoteWeights, download, resolve_weights


def _raw(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def test_written_checkpoint_has_the_official_layout(tiny_checkpoint: Path) -> None:
    raw = _raw(tiny_checkpoint)
    assert raw[PROMPTS_KEY].shape == (14, 64)
    torch.testing.assert_close(raw[PROMPTS_KEY].norm(dim=-1), torch.ones(14))
    clip_keys = [k for k in raw if k.startswith(CLIP_PREFIX)]
    assert f"{CLIP_PREFIX}visual.attnpool.q_proj.weight" in clip_keys
    assert f"{CLIP_PREFIX}token_embedding.weight" in clip_keys, "the text tower is part of the state"
    assert raw["arch"] == "qualiclip-tiny"
    assert "logit_scale" not in raw, "the official constant is implied, not stored"


def test_round_trip_reproduces_weights_and_scores(tiny_checkpoint: Path, tiny_model: QualityScorer,
                                                  tmp_path: Path, photo: np.ndarray) -> None:
    from qualiclip.checkpoint import write_checkpoint

    copy = write_checkpoint(tmp_path / "copy.pth", tiny_model.clip, tiny_model.prompt_features,
                            arch="qualiclip-tiny")
    reloaded = load_model(weights=copy)
    for key, value in tiny_model.clip.state_dict().items():
        torch.testing.assert_close(reloaded.clip.state_dict()[key], value, rtol=0, atol=0)
    [before], [after] = tiny_model.score([photo]), reloaded.score([photo])
    assert after.score == pytest.approx(before.score, abs=1e-6)
    np.testing.assert_allclose(after.similarities, before.similarities, atol=1e-6)


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda raw: raw.pop(f"{CLIP_PREFIX}visual.layer4.0.conv1.weight"), "visual.layer4.0.conv1.weight"),
        (lambda raw: raw.__setitem__(f"{CLIP_PREFIX}visual.extra.weight", torch.zeros(3)), "visual.extra.weight"),
        (lambda raw: raw.__setitem__(f"{CLIP_PREFIX}visual.attnpool.c_proj.bias", torch.zeros(7)),
         "visual.attnpool.c_proj.bias (7,) != (64,)"),
        (lambda raw: raw.__setitem__(PROMPTS_KEY, torch.zeros(12, 64)), "(12, 64), expected (14, 64)"),
    ],
    ids=["missing", "unexpected", "wrong-shape", "wrong-prompt-shape"],
)
def test_mismatching_checkpoints_are_refused_naming_the_keys(tiny_checkpoint: Path, tmp_path: Path,
                                                             edit, named: str) -> None:
    raw = _raw(tiny_checkpoint)
    edit(raw)
    torch.save(raw, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as caught:
        load_model(weights=tmp_path / "bad.pth")
    assert named in str(caught.value)


@pytest.mark.slow  # builds a full-size RN50: about 2 s here
def test_official_checkpoint_into_the_wrong_architecture_is_refused(tiny_checkpoint: Path, tmp_path: Path) -> None:
    raw = _raw(tiny_checkpoint)
    del raw["arch"]  # now claims to be the official RN50
    torch.save(raw, tmp_path / "tiny_as_rn50.pth")
    with pytest.raises(CheckpointError) as caught:
        load_model(weights=tmp_path / "tiny_as_rn50.pth")
    assert "missing keys: " in str(caught.value)
    assert "token_embedding.weight (49408, 64) != (49408, 512)" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"definitely not a checkpoint", b"PK\x03\x04broken zip"])
def test_unreadable_checkpoints_are_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "junk.pth").write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        read_checkpoint(tmp_path / "junk.pth")


def test_a_dict_without_clip_weights_is_refused(tmp_path: Path) -> None:
    torch.save({"state_dict": {"fc.weight": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="expected 'clip_model.visual"):
        read_checkpoint(tmp_path / "other.pth")


def test_bare_clip_state_dict_uses_the_text_tower(tiny_model: QualityScorer, tmp_path: Path,
                                                  photo: np.ndarray) -> None:
    from qualiclip.scoring import encode_prompts

    raw = {k: v for k, v in tiny_model.clip.state_dict().items()}
    raw["arch"] = "qualiclip-tiny"
    torch.save(raw, tmp_path / "bare.pth")
    model = load_model(weights=tmp_path / "bare.pth")
    expected = encode_prompts(tiny_model.clip, tokenizer("qualiclip-tiny"), model.prompt_pairs)
    torch.testing.assert_close(model.prompt_features, expected)


def test_custom_prompt_pairs_replace_the_official_features(tiny_checkpoint: Path, tiny_model: QualityScorer,
                                                           photo: np.ndarray) -> None:
    pairs = [("A crisp photo.", "A smeared photo."), ("Clean image.", "Grainy image.")]
    model = load_model(weights=tiny_checkpoint, prompt_pairs=pairs)
    assert model.prompt_features.shape == (4, 64)
    [result] = model.score([photo])
    assert len(result.pair_probabilities) == 2
    assert not torch.allclose(model.prompt_features, tiny_model.prompt_features[:4])


def test_offline_download_fails_fast_with_every_way_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path))
    monkeypatch.delenv(QUALICLIP_ENV, raising=False)
    remote = RemoteWeights(url="http://127.0.0.1:9/qualiclip.pth", filename="q.pth", env_var=QUALICLIP_ENV)
    with pytest.raises(WeightsUnavailableError) as caught:
        resolve_weights(remote, probe_timeout=2.0)
    message = str(caught.value)
    for expected in ("http://127.0.0.1:9/qualiclip.pth", "--weights", QUALICLIP_ENV, str(tmp_path)):
        assert expected in message
    assert not (tmp_path / "checkpoints" / "q.pth").exists()


def test_official_model_names_url_env_and_flag_when_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path))
    monkeypatch.delenv(QUALICLIP_ENV, raising=False)
    monkeypatch.setattr("qualiclip.weight_files._probe", _refuse)
    with pytest.raises(WeightsUnavailableError) as caught:
        load_model("qualiclip")
    assert MODELS["qualiclip"].remote.url in str(caught.value)
    assert QUALICLIP_ENV in str(caught.value)


def _refuse(url: str, timeout: float) -> None:
    raise OSError("network is unreachable")


def test_weights_come_from_path_then_env_then_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr("qualiclip.weight_files._probe", _refuse)
    remote = RemoteWeights(url="http://127.0.0.1:9/w.pth", filename="w.pth", env_var="TEST_WEIGHTS")
    explicit, from_env, cached = (tmp_path / name for name in ("explicit.pth", "env.pth", "hub/checkpoints/w.pth"))
    cached.parent.mkdir(parents=True)
    for path in (explicit, from_env, cached):
        path.write_bytes(b"x")
    monkeypatch.setenv("TEST_WEIGHTS", str(from_env))
    assert resolve_weights(remote, explicit) == explicit
    assert resolve_weights(remote) == from_env
    monkeypatch.delenv("TEST_WEIGHTS")
    assert resolve_weights(remote) == cached
    with pytest.raises(WeightsUnavailableError, match="does not exist"):
        resolve_weights(remote, tmp_path / "missing.pth")


def test_a_custom_checkpoint_is_named_after_its_file(tiny_checkpoint: Path) -> None:
    assert load_model(weights=tiny_checkpoint).name == tiny_checkpoint.name
    assert load_model("qualiclip-offline").name == "qualiclip-offline"


@pytest.mark.parametrize("arch", ["hf-hub:someone/repo", "local-dir:/tmp", "/etc/passwd", "no-such-arch"])
def test_a_checkpoint_arch_only_selects_a_known_config(tiny_model: QualityScorer, tmp_path: Path, arch: str) -> None:
    payload = {CLIP_PREFIX + k: v for k, v in tiny_model.clip.state_dict().items()}
    payload["arch"] = arch
    torch.save(payload, tmp_path / "hostile.pth")
    with pytest.raises(CheckpointError, match="unknown architecture"):
        load_model(weights=tmp_path / "hostile.pth")


def test_building_a_model_logs_nothing_and_leaves_logging_alone(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    filters = list(root.filters)
    with caplog.at_level(logging.INFO):
        build_clip(TINY_ARCH)
    assert caplog.records == [] and root.filters == filters


class _Stalling(http.server.BaseHTTPRequestHandler):
    """Sends the headers and a little data of a large file, then stops sending."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", str(10 ** 6))
        self.end_headers()
        self.wfile.write(b"x" * 1000)
        self.wfile.flush()
        time.sleep(5)

    def log_message(self, *args) -> None:
        pass


@pytest.mark.slow  # waits out real network time-outs
def test_a_stalled_download_times_out_per_call_and_leaves_no_file(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.perf_counter()
        with pytest.raises(OSError):
            download(f"http://127.0.0.1:{server.server_address[1]}/big.pth", tmp_path / "cache" / "big.pth",
                     stall_timeout=1.0)
        assert time.perf_counter() - started < 4.0
        assert socket.getdefaulttimeout() is None  # nothing process-wide was changed
        assert list((tmp_path / "cache").iterdir()) == []
    finally:
        server.shutdown()


# -- checkpoints are data: every value checked, every problem one line ----------------------------
@pytest.mark.parametrize(
    "key, value, named",
    [
        (f"{CLIP_PREFIX}visual.conv1.weight", float("nan"), f"'{CLIP_PREFIX}visual.conv1.weight' holds NaN"),
        (f"{CLIP_PREFIX}token_embedding.weight", float("inf"), f"'{CLIP_PREFIX}token_embedding.weight' holds NaN"),
        (PROMPTS_KEY, float("-inf"), f"'{PROMPTS_KEY}' holds NaN or infinite"),
        ("logit_scale", float("nan"), "'logit_scale' must be a positive finite number"),
        ("logit_scale", float("inf"), "'logit_scale' must be a positive finite number"),
        ("logit_scale", 0.0, "'logit_scale' must be a positive finite number"),
        ("logit_scale", -3.0, "'logit_scale' must be a positive finite number"),
        ("logit_scale", 1e300, "'logit_scale' must be a positive finite number"),  # infinite in float32
        ("logit_scale", "100", "'logit_scale' must be a number, got str"),
    ],
    ids=["nan-weight", "inf-text-weight", "inf-prompt", "nan-scale", "inf-scale", "zero-scale", "negative-scale",
         "float32-overflow-scale", "text-scale"],
)
def test_non_finite_or_non_positive_values_are_refused_naming_the_key(tiny_checkpoint: Path, tmp_path: Path,
                                                                      key: str, value: object, named: str) -> None:
    raw = _raw(tiny_checkpoint)
    if isinstance(raw.get(key), torch.Tensor):
        raw[key].view(-1)[3] = value  # one bad number among many good ones
    else:
        raw[key] = value
    torch.save(raw, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as caught:
        load_model(weights=tmp_path / "bad.pth")
    assert named in str(caught.value) and str(tmp_path / "bad.pth") in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_a_logit_scale_stored_as_a_tensor_is_used(tiny_checkpoint: Path, tmp_path: Path) -> None:
    raw = _raw(tiny_checkpoint)
    raw["logit_scale"] = torch.tensor(11.5)
    torch.save(raw, tmp_path / "scaled.pth")
    assert load_model(weights=tmp_path / "scaled.pth").logit_scale == 11.5


@pytest.mark.parametrize(
    "odd",
    [lambda t: torch.empty_like(t, device="meta"), lambda t: t.to_sparse(),
     lambda t: torch.quantize_per_tensor(t, 0.1, 0, torch.qint8), lambda t: t.to(torch.complex64)],
    ids=["meta", "sparse", "quantized", "complex"],
)
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_only_dense_real_tensors_are_accepted(tiny_checkpoint: Path, tmp_path: Path, odd) -> None:
    raw = _raw(tiny_checkpoint)
    key = f"{CLIP_PREFIX}visual.attnpool.c_proj.bias"
    raw[key] = odd(raw[key])
    torch.save(raw, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match=f"'{key}' is a .* tensor; only dense real tensors are accepted"):
        read_checkpoint(tmp_path / "odd.pth")


def test_a_non_tensor_weight_is_refused(tiny_checkpoint: Path, tmp_path: Path) -> None:
    raw = _raw(tiny_checkpoint)
    raw[f"{CLIP_PREFIX}visual.conv1.weight"] = [1.0, 2.0]
    torch.save(raw, tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match="'clip_model.visual.conv1.weight' must be a tensor, got list"):
        read_checkpoint(tmp_path / "list.pth")


class _RunsACommand:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_that_calls_a_function_is_refused_without_torch_advice(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    torch.save({"clip_model.visual.w": torch.zeros(2), "payload": _RunsACommand()}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(tmp_path / "evil.pth")
    message = str(caught.value)
    assert "not a readable PyTorch checkpoint (UnpicklingError: " in message and "print" in message
    assert "weights_only" not in message, "torch's advice to load the file unsafely must not reach users"
    assert len(message.splitlines()) == 1
    assert "this must never run" not in capsys.readouterr().out


def test_damaged_checkpoints_give_one_line_checkpoint_errors(tmp_path: Path) -> None:
    """Truncated files and random byte errors in the pickle: torch.load raises KeyError, IndexError,
    TypeError, AttributeError... on some of them; every one must come out as one CheckpointError line."""
    import io
    import random
    import zipfile

    buffer = io.BytesIO()
    torch.save({f"{CLIP_PREFIX}visual.w": torch.arange(6.0), PROMPTS_KEY: torch.eye(2), "arch": "RN50",
                "logit_scale": 20.0}, buffer)
    whole = buffer.getvalue()
    archive = zipfile.ZipFile(io.BytesIO(whole))
    pickled = next(name for name in archive.namelist() if name.endswith("data.pkl"))
    rng = random.Random(0)
    damaged = [whole[:cut] for cut in range(0, len(whole), 97)]
    for _ in range(300):
        data = bytearray(archive.read(pickled))
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        rebuilt = io.BytesIO()
        with zipfile.ZipFile(rebuilt, "w") as out:
            for name in archive.namelist():
                out.writestr(name, bytes(data) if name == pickled else archive.read(name))
        damaged.append(rebuilt.getvalue())
    outcomes = {"refused": 0, "read": 0}
    for index, content in enumerate(damaged):
        path = tmp_path / f"damaged{index}.pth"
        path.write_bytes(content)
        try:
            read_checkpoint(path)
            outcomes["read"] += 1  # a byte error that left a valid checkpoint
        except CheckpointError as error:
            assert len(str(error).splitlines()) == 1, str(error)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 250


def test_a_fifo_is_never_opened_as_a_checkpoint(tmp_path: Path, make_fifo) -> None:
    fifo = make_fifo(tmp_path / "weights.pth")
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="is not a regular file"):
        read_checkpoint(fifo)
    with pytest.raises(WeightsUnavailableError, match="is not a regular file"):
        load_model(weights=fifo)
    assert time.perf_counter() - started < 1.0

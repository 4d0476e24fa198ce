"""The app as an MCP server (Model Context Protocol): every named endpoint a documented tool, none of the UI's
own events, the env var that turns it off, and a real MCP client scoring an example photo like the library."""
from __future__ import annotations

import ast
import asyncio
import base64
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from gradio import State, utils
from PIL import Image

from qualiclip import QualityScorer
from qualiclip.studio import EXAMPLES_DIR, layout
from qualiclip.studio.formatting import quality_label
from qualiclip.studio.model_slots import Studio

#: The tools the issue asks for (score, heatmaps, degrade-and-score, compare, two photos) and the other tabs'.
EXPECTED_TOOLS = {"score", "heatmaps", "robustness", "compare", "two_photos", "sweep", "batch", "custom_pairs",
                  "similarities", "robustness_report", "training_step"}
#: UI-only handlers: never a tool.
UI_ONLY = {"reblend", "sorted_table", "level_key", "selected_tab", "main_image_shown", "analyse_upload",
           "input_error", "two_photos_error", "explain_image"}


def test_every_named_endpoint_is_a_documented_tool(tiny_studio: Studio) -> None:
    """What Gradio makes of each public endpoint's function (gradio.utils, as its MCP server does): a tool
    named after the endpoint, described, every input documented (``Args:``), one ``Returns:`` line per
    output, and no session state (an MCP tool cannot carry one). UI events are private."""
    demo = layout.build_demo(tiny_studio)
    public = [fn for fn in demo.fns.values() if fn.api_visibility == "public"]
    assert {fn.api_name for fn in public} >= EXPECTED_TOOLS
    for fn in public:
        description, parameters, returns = utils.get_function_description(fn.fn)
        inputs = [name for name, *_ in utils.get_function_params(fn.fn)][:len(fn.inputs)]
        assert fn.fn.__name__ == fn.api_name and len(description) > 40, fn.api_name
        assert all(parameters[name] for name in inputs), (fn.api_name, parameters)
        assert len(returns) == len(fn.outputs), (fn.api_name, returns)
        assert not any(isinstance(block, State) for block in (*fn.inputs, *fn.outputs)), fn.api_name
    private = {getattr(fn.fn, "__name__", "") for fn in demo.fns.values() if fn.api_visibility == "private"}
    assert not {fn.api_name for fn in public} & UI_ONLY and "reblend" in private


@pytest.mark.parametrize(("value", "served"), [(None, True), ("1", True), ("0", False), ("false", False),
                                               ("off", False), ("no", False)])
def test_mcp_is_on_unless_the_environment_says_no(monkeypatch: pytest.MonkeyPatch, value: str | None,
                                                  served: bool) -> None:
    if value is None:
        monkeypatch.delenv(layout.MCP_ENV, raising=False)
    else:
        monkeypatch.setenv(layout.MCP_ENV, value)

    class Demo:
        def launch(self, **options: Any) -> dict[str, Any]:
            return options

    assert layout.launch(Demo())["mcp_server"] is served
    assert layout.launch(Demo(), mcp_server=True)["mcp_server"] is True  # an explicit choice wins


def _png_data_url(path: Path) -> tuple[str, bytes]:
    """The picture at ``path`` as PNG bytes and as a ``data:image/png;base64,...`` URL of them."""
    buffer = io.BytesIO()
    Image.open(path).convert("RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), buffer.getvalue()


async def _session_calls(url: str, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list, list[list]]:
    """The tools the server lists and the text contents of each call, through the ``mcp`` client."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url.rstrip("/") + "/gradio_api/mcp/") as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        results = []
        for name, arguments in calls:
            result = await session.call_tool(name, arguments)
            assert not result.isError, (name, result.content)
            results.append([content.text for content in result.content if content.type == "text"])
        return tools, results


@pytest.mark.slow  # the session's app server (tests/conftest.py), launched as `python app.py` is: MCP on
def test_mcp_client_lists_the_tools_and_scores_like_the_library(app_url: str, app_client, served_studio: Studio,
                                                                tiny_model: QualityScorer, tmp_path: Path) -> None:
    image_url, png = _png_data_url(EXAMPLES_DIR / "coffee.jpg")
    calls = _session_calls(app_url, [("score", {"image": image_url}),
                                     ("robustness", {"image": image_url, "degradation": "gaussian_blur", "level": 5})])
    with ThreadPoolExecutor(1) as thread:  # an event loop of its own: Playwright's sync API may run one here
        tools, (score, robustness) = thread.submit(asyncio.run, calls).result()
    named = app_client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {tool.name for tool in tools} == {name.lstrip("/") for name in named} >= EXPECTED_TOOLS
    for tool in tools:
        properties = tool.inputSchema["properties"]
        assert len(tool.description) > 40 and "Returns:" in tool.description and properties, tool.name
        assert all(schema.get("description") for schema in properties.values()), (tool.name, properties)
    heatmaps = next(tool for tool in tools if tool.name == "heatmaps").inputSchema["properties"]
    assert heatmaps["pair"]["type"] == "integer" and heatmaps["image"]["type"] == "string"

    (path := tmp_path / "coffee.png").write_bytes(png)
    [expected] = tiny_model.score([path])  # the library, loading the same weights itself
    [text] = score
    gauge, _chart, result = ast.literal_eval(text)  # the endpoint's outputs, in its Returns order
    assert abs(result["score"] - expected.score) <= 1e-6
    assert result["label"] == quality_label(expected.score) and result["model"] == served_studio.primary.name
    assert list(result["pair_probabilities"].values()) == pytest.approx(expected.pair_probabilities, abs=1e-4)
    assert f'data-score="{expected.score:.4f}"' in gauge
    [text] = robustness
    (before, after), _, _, data = ast.literal_eval(text)
    assert before["url"].startswith(app_url.rstrip("/")) and after["url"] != before["url"]  # the slider's images
    assert abs(data["original"]["score"] - expected.score) <= 1e-6 and data["level"] == 5
    assert data["drop"] == pytest.approx(data["original"]["score"] - data["degraded"]["score"], abs=1e-9)

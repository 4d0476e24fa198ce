"""torch.hub entries of this repository, as the official QualiCLIP repository's::

    model = torch.hub.load("OWNER/REPO", "QualiCLIP")          # or a checkout: (PATH, "QualiCLIP", source="local")
    model.eval().to(device)
    with torch.no_grad():
        scores = model(clip_normalised_images)                 # (B, 3, H, W) at any size -> (B,)

The entries keep the official convention, CLIP-normalised input (``scorer.as_module()`` in Python takes
images in [0, 1]).

Entries: ``QualiCLIP`` and ``qualiclip`` (the official weights), ``clip_iqa`` (CLIP-IQA as its authors
define it), ``clip_qualiclip_prompts`` (zero-shot OpenAI RN50 with QualiCLIP's pairs), ``qualiclip_offline``,
``qualiclip_plus`` (KonIQ), ``qualiclip_plus_clive``, ``qualiclip_plus_flive``, ``qualiclip_plus_spaq``;
see :mod:`qualiclip.hub`.
"""
from qualiclip.hub import hub_entries as _hub_entries

#: What torch.hub checks is importable before loading (the library's own requirements).
dependencies = ["torch", "torchvision", "open_clip", "PIL", "numpy", "tqdm"]

globals().update(_hub_entries())

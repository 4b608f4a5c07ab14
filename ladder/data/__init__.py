"""Fine-tuning data: :mod:`~ladder.data.check` runs the pipeline's own validation locally;
:mod:`~ladder.data.rendering` writes chat records with the prompt the RAG function serves in ``finetuned``
mode (its own retrieval and template code). Callers use the names below (``data.check_file``,
``data.render``).
"""

from __future__ import annotations

from .check import (
    TemplateCheck,
    TemplateProblem,
    check_chat_template,
    check_file,
    check_records,
    eval_overlap,
    load_tokenizer,
    prep_options,
)
from .rendering import (
    MANIFEST_SUFFIX,
    QA_KEYS,
    RENDER_MODE,
    QaPair,
    RenderResult,
    function_settings,
    read_pairs,
    render,
    write_render,
)

__all__ = [
    "MANIFEST_SUFFIX",
    "QA_KEYS",
    "RENDER_MODE",
    "QaPair",
    "RenderResult",
    "TemplateCheck",
    "TemplateProblem",
    "check_chat_template",
    "check_file",
    "check_records",
    "eval_overlap",
    "function_settings",
    "load_tokenizer",
    "prep_options",
    "read_pairs",
    "render",
    "write_render",
]

"""Physical names of the knowledge base's replacement-forcing resources.

CloudFormation replaces a resource when a create-only property changes, and it creates the replacement
before deleting the old one; under a fixed name the new resource collides with the old ("already exists").
Each name here therefore carries a short hash of exactly the settings that force its replacement (from the
resource provider schemas' ``createOnlyProperties``):

- collection: ``StandbyReplicas`` (and ``Tags``, which the collection does not carry: see vector_store.py);
- examples index: the embedding its vectors are made with;
- vector index (either store): whatever its vectors are made from, the embedding (a new model needs new
  vectors) and the chunking (a new data source needs an empty index);
- knowledge base: ``VectorKnowledgeBaseConfiguration`` and ``StorageConfiguration`` (store, index);
- data source: ``ChunkingConfiguration`` (and the knowledge base it belongs to).

The index follows the chunking because a replaced data source keeps its vectors (``DataDeletionPolicy:
RETAIN``, "retains all data ... upon deletion of a knowledge base or data source resource"): in the same
index the old chunks would stay retrievable next to the new ones, and a document deleted from S3 later would
never leave them. A fresh index under a fresh knowledge base starts empty and the first sync fills it.
"""

from __future__ import annotations

from typing import Any

from stacks.config import LadderConfig, short_hash


def chunking_inputs(config: LadderConfig) -> dict[str, Any]:
    """The settings of the configured chunking strategy, and nothing that the strategy ignores."""
    strategy = config.chunking_strategy
    settings: dict[str, Any] = {
        "FIXED_SIZE": {"maxTokens": config.chunk_max_tokens, "overlap": config.chunk_overlap_percentage},
        "SEMANTIC": {
            "maxTokens": config.semantic_max_tokens,
            "buffer": config.semantic_buffer_size,
            "breakpoint": config.semantic_breakpoint_percentile,
        },
        "HIERARCHICAL": {
            "parent": config.hierarchical_parent_max_tokens,
            "child": config.hierarchical_child_max_tokens,
            "overlap": config.hierarchical_overlap_tokens,
        },
    }.get(strategy, {})
    return {"strategy": strategy, **settings}


def embedding_inputs(config: LadderConfig) -> dict[str, Any]:
    return {"model": config.embedding_model_id, "dimensions": config.embedding_dimensions}


def vector_inputs(config: LadderConfig) -> dict[str, Any]:
    """Everything the vectors in the index are made from: the embedding and the chunking."""
    return {**embedding_inputs(config), "chunking": chunking_inputs(config)}


def index_name(config: LadderConfig) -> str:
    """Vector index name (OpenSearch or S3 vector index): lowercase, changes with ``vector_inputs``."""
    return f"{config.stack_prefix.lower()}-kb-{short_hash(vector_inputs(config))}"


def examples_index_name(config: LadderConfig) -> str:
    """The examples' S3 vector index name: changes with the embedding, since its vectors are made by it."""
    return f"{config.stack_prefix.lower()}-examples-{short_hash(embedding_inputs(config))}"


def knowledge_base_name(config: LadderConfig) -> str:
    store: dict[str, Any] = {"store": config.vector_store, "index": index_name(config)}
    if config.vector_store == "opensearch":
        store["collection"] = config.collection_name
    else:
        store["kmsKey"] = config.vector_kms_key_arn
    return f"{config.stack_prefix.lower()}-knowledge-base-{short_hash(store)}"


def data_source_name(config: LadderConfig) -> str:
    inputs = {"knowledgeBase": knowledge_base_name(config), "chunking": chunking_inputs(config)}
    return f"{config.stack_prefix.lower()}-documents-{short_hash(inputs)}"

"""Where things live in the fine-tune buckets; the pipeline, the roles and the lifecycle rules agree on it."""

from __future__ import annotations

from typing import Final

UPLOADS_PREFIX: Final = "uploads/"
"""Training-data bucket: raw chat datasets (``ladder finetune start`` uploads here)."""
PREPARED_PREFIX: Final = "prepared/"
"""Training-data bucket: ``prepared/<execution>/{train,eval}/`` written by the validation task."""
MODELS_PREFIX: Final = "models/"
"""Artifacts bucket: SageMaker output path; the merged model lands in ``models/<job>/output/model/``."""
CHECKPOINTS_PREFIX: Final = "checkpoints/"
"""Artifacts bucket: ``checkpoints/<job>/``, synced with the job's /opt/ml/checkpoints (spot resume)."""
BASE_MODELS_PREFIX: Final = "base-models/"
"""Artifacts bucket: base-model weights staged by the user for the optional ``model`` channel."""

PREPARED_RETENTION_DAYS: Final = 90
CHECKPOINT_RETENTION_DAYS: Final = 30
"""Checkpoints only matter while their job may still resume; a month leaves time to inspect a failure."""

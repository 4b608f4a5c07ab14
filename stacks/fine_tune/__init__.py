"""Constructs of the fine-tune stack: training code asset, SageMaker role and job, pipeline, budget."""

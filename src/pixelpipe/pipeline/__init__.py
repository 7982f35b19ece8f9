"""Pipelines of catalogue ops and their planning."""

from pixelpipe.pipeline.pipeline import Pipeline
from pixelpipe.pipeline.plan import Plan, Stage, plan

__all__ = ["Pipeline", "Plan", "Stage", "plan"]

"""API routes of this app, registered on the shared /api/v1/ router."""


def register(router) -> None:
    """Add this app's viewsets to the shared router."""
    from webapp.training.api import (
        ComparisonViewSet,
        ModelVersionViewSet,
        TrainingJobViewSet,
    )

    router.register("training-jobs", TrainingJobViewSet, basename="training-job")
    router.register("model-versions", ModelVersionViewSet, basename="model-management")
    router.register("model-comparisons", ComparisonViewSet, basename="model-comparison")

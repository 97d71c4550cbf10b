"""API routes of this app, registered on the shared /api/v1/ router."""


def register(router) -> None:
    """Add this app's viewsets to the shared router."""
    from webapp.generation.views import (
        BulkRunViewSet,
        CandidateViewSet,
        JobViewSet,
        ScheduleViewSet,
    )

    router.register("jobs", JobViewSet, basename="job")
    router.register("candidates", CandidateViewSet, basename="candidate")
    router.register("schedules", ScheduleViewSet, basename="schedule")
    router.register("bulk-runs", BulkRunViewSet, basename="bulk-run")

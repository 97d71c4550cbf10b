"""API routes of this app, registered on the shared /api/v1/ router."""


def register(router) -> None:
    """Add this app's viewsets to the shared router."""
    from webapp.review.api import DecisionViewSet, RatingViewSet, RevisionViewSet

    router.register("ratings", RatingViewSet, basename="rating")
    router.register("revisions", RevisionViewSet, basename="revision")
    router.register("decisions", DecisionViewSet, basename="decision")

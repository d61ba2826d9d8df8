"""Keep signed-in pages out of shared computers' caches."""


class NoStoreForSignedIn:
    """Pages shown to a signed-in person may hold data about their rooms: on a shared
    ward computer, Back after signing out must not show them from the browser's cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response

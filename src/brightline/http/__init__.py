"""The HTTP adapter: a FastAPI app over the core's service functions (``brightline serve``)."""

from brightline.http.app import create_app

__all__ = ["create_app"]

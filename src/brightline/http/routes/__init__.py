"""One router per area; :mod:`brightline.http.app` includes them all."""

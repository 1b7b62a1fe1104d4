"""A small publisher application that signs users in at Klaspoort with OpenID Connect.

`make_app(Config)` returns the WSGI application; `python -m examples.publisher_app` serves it.
"""

from examples.publisher_app.app import Config, make_app

__all__ = ["Config", "make_app"]

from tests.api.conftest import papp, worker  # noqa: F401  (the same app and worker)

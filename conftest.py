"""Repository-root pytest set-up.

pytest-homeassistant-custom-component ships a ``custom_components`` package of its own, which would shadow this
repository's; importing ours first makes ``custom_components.smart_community`` resolve here.
"""

import custom_components  # noqa: F401  (must be imported before the plugin's package)

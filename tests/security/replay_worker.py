"""Subprocess helper: one service replica. argv[1] is JSON {auth, cache, audience};
each stdin line is a token; prints ``ok`` or the refused check per line."""

from __future__ import annotations

import json
import sys

from cds_service.security import (
    AuthConfig,
    AuthError,
    CacheConfig,
    SecurityUnavailable,
    build_authenticator,
)


def main() -> None:
    """Verify each token from stdin with an Authenticator built from the config."""
    config = json.loads(sys.argv[1])
    auth = build_authenticator(AuthConfig(**config["auth"]), CacheConfig(**config["cache"]))
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            auth.verify("Bearer " + line.strip(), config["audience"])
            print("ok", flush=True)
        except (AuthError, SecurityUnavailable) as exc:
            print(exc.check, flush=True)


if __name__ == "__main__":
    main()

"""``python -m tigase_py.server --config FILE``: run the server in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tigase_py.server")
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    from tigase_py.server import app
    from tigase_py.server.config.load import ConfigError, find_config, load_config

    try:
        config = load_config(find_config(args.config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return app.run(config)


if __name__ == "__main__":
    sys.exit(main())

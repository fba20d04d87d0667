"""The tracker store runs in the bot's environment (Rasa):

    .venv-bot/bin/python -m pytest tests/integration/tracker_store \
        --confcutdir=tests/integration/tracker_store
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

"""The dialog's instructions a message, without the bench's own work: the messages of the
dialog bench's officials are recorded once, then replayed through `Conversation.handle` alone
(no reading of the replies between them), under cachegrind, which counts instructions and
does not drift with the machine's speed.

    .venv/bin/python bench/dialog_replay.py record /tmp/messages.json
    for n in 0 4; do PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
        --cachegrind-out-file=/dev/null .venv/bin/python bench/dialog_replay.py replay /tmp/messages.json $n; done

The figure is (I refs with 4 officials − I refs with none) / the messages printed: the start,
the schema and a warm-up official are in both runs, and cancel out.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dialog_bench import NOW, converse  # noqa: E402
from bench.official import official_facts  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from dialogs.conversation import Conversation  # noqa: E402
from storage.db import make_engine  # noqa: E402

OFFICIALS = 4


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    conversation = Conversation(make_engine(f"sqlite:///{tempfile.mkdtemp()}/dialog.db"), ManualClock(NOW))
    gc.freeze()  # as the dialog bench
    if mode == "record":
        typed: dict[str, list[str]] = {}
        handle = conversation.handle
        for n, official in enumerate(["warm-up"] + [f"user{u}" for u in range(OFFICIALS)]):
            texts = typed[official] = []

            def recording(user, text=None, _texts=texts, **kw):
                _texts.append(text)
                return handle(user, text=text, **kw)

            conversation.handle = recording
            converse(conversation, official, official_facts(199 if n == 0 else n - 1))
        path.write_text(json.dumps(typed, ensure_ascii=False), encoding="utf-8")
        return
    typed = json.loads(path.read_text(encoding="utf-8"))
    for text in typed["warm-up"]:
        conversation.handle("warm-up", text=text)
    messages = 0
    for u in range(int(sys.argv[3])):
        for text in typed[f"user{u}"]:
            conversation.handle(f"user{u}", text=text)
            messages += 1
    print("messages", messages)


if __name__ == "__main__":
    main()

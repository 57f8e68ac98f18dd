"""The answering engine: question in, Answer out. Knows nothing of chats.

Serving: engine.py (Engine), types.py, normalize.py, corpus.py, styles.py, safety.py, retrieval/,
generation/, llm/. Offline tooling (data check, import, export, fine-tuning): tooling/, which serving
code never imports.
"""

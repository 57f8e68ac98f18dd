"""The answering engine: corpus, retrieval, styles, prompts and LLM backends. Knows nothing of chats."""

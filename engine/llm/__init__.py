"""LLM backends. Each is one small class whose `stream` yields text pieces."""

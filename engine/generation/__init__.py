"""Generation: prompts, the run of one LLM request, shaping its text, prefetch."""

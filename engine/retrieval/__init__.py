"""Retrieval: the Chroma knowledge base, the embedders and where model files come from."""

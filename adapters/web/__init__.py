"""The local web page (Gradio on FastAPI/uvicorn): every browser tab is a private chat."""

from adapters.web.server import serve, wanted

__all__ = ["serve", "wanted"]
